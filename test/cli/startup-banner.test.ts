import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { openableUrl, startupBanner } from '../../src/cli/startup-banner.js';
import { createLogger, terminalDestination } from '../../src/logger.js';

test('on a terminal, serve first prints its listening line, the portal and API URLs to open and the demo logons', () => {
  const text = startupBanner({
    version: '9.9.9',
    urls: { https: 'https://0.0.0.0:9398', http: 'http://0.0.0.0:9399' },
    dataDir: '/srv/openem',
    demoLogons: [{ user: 'admin', password: 'Secret-1', role: 'Portal Administrator' }, { user: 'operator', role: 'Restore Operator (web01, files01)' }],
  });
  const lines = text.split('\n');
  // The line scripts and the tests wait for comes first, as when output is not a terminal.
  assert.equal(lines[0], 'openem 9.9.9 listening: https://0.0.0.0:9398 http://0.0.0.0:9399  (data: /srv/openem)');
  assert.match(text, /Restore portal {2}https:\/\/localhost:9398\/ui\/ {3}\(self-signed certificate/);
  assert.match(text, /\n {18}http:\/\/localhost:9399\/ui\/\n/);
  assert.match(text, /API {13}https:\/\/localhost:9398\/api\//);
  assert.match(text, /Demo logons {5}admin \/ Secret-1 +Portal Administrator/);
  assert.match(text, /operator \/ \(printed at the first start\) +Restore Operator \(web01, files01\)/);
  assert.equal(openableUrl('https://[::]:9398'), 'https://localhost:9398');
  assert.equal(openableUrl('https://10.1.2.3:9398'), 'https://10.1.2.3:9398');
});

test('a logger for a terminal writes one readable line per record, requests as method and URL, secrets still redacted', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const log = createLogger('info', terminalDestination(out, false));
  log.info({ req: { method: 'GET', url: '/ui/', headers: { authorization: 'Basic c2VjcmV0' } } }, 'incoming request');
  log.info({ res: { statusCode: 200 }, responseTime: 9.6 }, 'request completed');
  log.warn({ vm: 'web01', password: 'Hunter-2' }, 'backup finished');
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 3, text);
  assert.match(lines[0], /^\[\d\d:\d\d:\d\d\] INFO: incoming request GET \/ui\/$/);
  assert.match(lines[1], /^\[\d\d:\d\d:\d\d\] INFO: request completed 200 in 10 ms$/);
  assert.match(lines[2], /^\[\d\d:\d\d:\d\d\] WARN: backup finished \{"vm":"web01","password":"\[redacted\]"\}$/);
  assert.doesNotMatch(text, /c2VjcmV0|Hunter-2/);
  for (const l of lines) assert.throws(() => JSON.parse(l));
});

test('a logger not told of a terminal writes pino JSON lines', () => {
  const chunks: string[] = [];
  const log = createLogger('info', { write: (s: string) => void chunks.push(s) });
  log.info({ vm: 'web01' }, 'backup finished');
  const record = JSON.parse(chunks[0]);
  assert.equal(record.msg, 'backup finished');
  assert.equal(record.level, 30);
});
