/** A demo account's logon as the banner shows it. */
export interface DemoLogon {
  user: string;
  /** Unknown when it was printed once at the first start and not kept (not a demo data directory). */
  password?: string;
  role: string;
}

/** A listener's URL as a person opens it: a wildcard listen address is reached as localhost. */
export function openableUrl(url: string): string {
  return url.replace('://0.0.0.0:', '://localhost:').replace('://[::]:', '://localhost:');
}

/**
 * What `openem serve` prints on a terminal once it listens (issue #16): the `listening:` line every start prints,
 * then the portal's and the API's URLs to open and, for `--demo`, the logons to try; before any further log line.
 */
export function startupBanner(o: { version: string; urls: { https?: string; http?: string }; dataDir: string; demoLogons?: DemoLogon[] }): string {
  const urls = [o.urls.https, o.urls.http].filter((u): u is string => !!u).map(openableUrl);
  const lines = [`openem ${o.version} listening: ${Object.values(o.urls).join(' ')}  (data: ${o.dataDir})`, ''];
  const column = (label: string, values: string[]) => values.forEach((v, i) => lines.push(`  ${(i === 0 ? label : '').padEnd(16)}${v}`));
  column('Restore portal', urls.map((u) => `${u}/ui/${u.startsWith('https:') ? '   (self-signed certificate: the browser asks once)' : ''}`));
  column('API', urls.map((u) => `${u}/api/`));
  if (o.demoLogons?.length) {
    const logon = (l: DemoLogon) => `${l.user} / ${l.password ?? '(printed at the first start)'}`;
    const width = Math.max(...o.demoLogons.map((l) => logon(l).length)) + 3;
    column('Demo logons', o.demoLogons.map((l) => `${logon(l).padEnd(width)}${l.role}`));
  }
  lines.push('');
  return lines.join('\n') + '\n';
}
