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
  return new Date(ms).toISOString().replace(/\.?0*Z$/, 'Z');
}

/** A RestorePoint's name as Enterprise Manager writes it: `Aug 21 2013 10:44AM`, `Aug 21 2013  1:32PM` (seed 003). */
export function restorePointName(ms: number): string {
  const d = new Date(ms);
  const h24 = d.getUTCHours();
  const h12 = h24 % 12 === 0 ? 12 : h24 % 12;
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.getUTCFullYear()} ${String(h12).padStart(2, ' ')}:${mm}${h24 < 12 ? 'AM' : 'PM'}`;
}
