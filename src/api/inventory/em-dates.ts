const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `yyyy-MM-dd HH:mm:ss` in UTC, as in Enterprise Manager's names (`sql01@2013-08-26 08:31:22`, seed 003). */
export function emTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/**
 * xs:dateTime in UTC as Enterprise Manager writes it, the one date format of every resource: no fraction when
 * there is none (`2013-08-21T10:44:36Z`), otherwise without trailing zeros (`2017-01-12T16:56:28.7Z`,
 * scenario_1_click_restore.md). Years past 9999 keep the sign and digits toISOString gives them.
 */
export function isoUtc(ms: number): string {
  // Whole seconds in years 1970-9999 (every guest listing's mtime: 10,000 a listing) are formatted by arithmetic;
  // Date#toISOString and the regular expression cost more than the rest of an entry's rendering.
  if (ms % 1000 === 0 && ms >= 0 && ms < MS_YEAR_10000) return wholeSecondsIso(ms / 1000);
  return new Date(ms).toISOString().replace(/\.?0*Z$/, 'Z');
}

const MS_YEAR_10000 = Date.UTC(10000, 0, 1);
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/** `yyyy-MM-ddTHH:mm:ssZ` of whole seconds since the epoch (days to a civil date: H. Hinnant's days_from_civil inverse). */
function wholeSecondsIso(seconds: number): string {
  const days = Math.floor(seconds / 86400);
  const secs = seconds - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(secs / 3600);
  const m = Math.floor((secs % 3600) / 60);
  return `${year}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[secs % 60]}Z`;
}

/** A RestorePoint's name as Enterprise Manager writes it: `Aug 21 2013 10:44AM`, `Aug 21 2013  1:32PM` (seed 003). */
export function restorePointName(ms: number): string {
  const d = new Date(ms);
  const h24 = d.getUTCHours();
  const h12 = h24 % 12 === 0 ? 12 : h24 % 12;
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.getUTCFullYear()} ${String(h12).padStart(2, ' ')}:${mm}${h24 < 12 ? 'AM' : 'PM'}`;
}
