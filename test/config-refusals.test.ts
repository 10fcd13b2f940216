// A configuration openem cannot use is refused with the catalogue's BAD_CONFIG, naming what is wrong.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { openStore } from '../src/state/open-store.js';
import { loadOrCreateCertificate } from '../src/tls.js';

const dir = await mkdtemp(join(tmpdir(), 'openem-config-'));
after(() => rm(dir, { recursive: true, force: true }));

test('a number setting that is not a non-negative integer is BAD_CONFIG', () => {
  assert.throws(() => loadConfig({ env: { OPENEM_HTTP_PORT: 'eighty' }, flags: { dataDir: dir } }), { code: 'BAD_CONFIG', message: /httpPort: "eighty"/ });
  assert.throws(() => loadConfig({ flags: { dataDir: dir, maxRestores: -1 } }), { code: 'BAD_CONFIG', message: /maxRestores/ });
});

test('a named config file that is missing, or not JSON, is BAD_CONFIG', async () => {
  assert.throws(() => loadConfig({ configFile: join(dir, 'absent.json'), flags: { dataDir: dir } }), { code: 'BAD_CONFIG', message: /does not exist/ });
  const broken = join(dir, 'broken.json');
  await writeFile(broken, '{ "httpPort": ');
  assert.throws(() => loadConfig({ configFile: broken, flags: { dataDir: dir } }), { code: 'BAD_CONFIG', message: /is not valid JSON/ });
});

test('a database URL that is not postgres:// is BAD_CONFIG, with the password left out', async () => {
  await assert.rejects(openStore({ dataDir: dir, databaseUrl: 'mysql://u:secret@db/openem' }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'BAD_CONFIG');
    assert.doesNotMatch(e.message, /secret/);
    return true;
  });
});

test('a TLS certificate without its key is BAD_CONFIG', async () => {
  const config = loadConfig({ flags: { dataDir: dir, tlsCert: join(dir, 'server.crt') } });
  await assert.rejects(loadOrCreateCertificate(config), { code: 'BAD_CONFIG' });
});
