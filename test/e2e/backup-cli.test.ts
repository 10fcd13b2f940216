import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cliOk, runCli } from '../helpers/cli.js';
import { ADMIN_PASSWORD } from '../helpers/server-process.js';

function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'openem-backup-'));
}

function sourceTree(bigMiB = 0): string {
  const dir = mkdtempSync(join(tmpdir(), 'openem-backup-src-'));
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc', 'hostname'), 'vm\n');
  if (bigMiB) writeFileSync(join(dir, 'big.bin'), randomBytes(bigMiB * 2 ** 20));
  return dir;
}

async function vmShow(dataDir: string, name: string) {
  return JSON.parse(await cliOk(dataDir, ['vm', 'show', name, '--json']));
}

test('the first backup is Full, the next an Increment storing only what changed', async () => {
  const d = newDataDir();
  await cliOk(d, ['vm', 'create', 'v1', '--from-dir', sourceTree(4), '--size', '64M']);
  const full = JSON.parse(await cliOk(d, ['backup', 'v1', '--json']));
  assert.equal(full[0].pointType, 'Full');
  assert.ok(full[0].stats.blocksNew >= 4);
  const inc = JSON.parse(await cliOk(d, ['backup', 'v1', '--json']));
  assert.equal(inc[0].pointType, 'Increment');
  assert.equal(inc[0].stats.blocksNew, 0, 'nothing changed, nothing new stored');
  assert.match(await cliOk(d, ['repo', 'check', '--read-data']), /repository is clean/);
});

test('a disk without a partition table or ext4 is backed up but not indexed, and the catalog says why', async () => {
  const d = newDataDir();
  await cliOk(d, ['vm', 'create', 'raw', '--from-dir', sourceTree(), '--size', '32M']);
  const vm = await vmShow(d, 'raw');
  const image = vm.disks?.[0]?.path ?? vm.disks?.[0]?.imagePath ?? vm.diskPaths?.[0];
  assert.ok(image, `vm show lists the disk image path: ${JSON.stringify(vm)}`);
  const fd = openSync(image, 'r+');
  writeSync(fd, randomBytes(4 * 2 ** 20), 0, 4 * 2 ** 20, 0);
  closeSync(fd);
  await cliOk(d, ['backup', 'raw']);
  const { startServerProcess } = await import('../helpers/server-process.js');
  const { EmClient, openemDetails } = await import('../helpers/em-client.js');
  const server = await startServerProcess({ dataDir: d });
  try {
    const c = new EmClient(server.http, 'json');
    await c.logOn();
    const points = await c.get(`${server.http}/api/catalog/vms/raw/vmRestorePoints?format=Entity`);
    const index = await openemDetails(c, points.body.CatalogVmRestorePoints[0], 'CatalogIndexState');
    assert.equal(index.IndexState, 'NotIndexed');
    assert.match(index.IndexMessage, /not indexed/);
    const vrp = await c.get(`${server.http}/api/vmRestorePoints`);
    assert.equal(vrp.body.Refs.length, 1, 'the point is still a restorable VM restore point');
  } finally {
    await server.stop();
  }
});

test('a backup killed with SIGKILL leaves no visible restore point; check is clean and the next backup succeeds', async () => {
  const d = newDataDir();
  await cliOk(d, ['vm', 'create', 'big', '--from-dir', sourceTree(160), '--size', '256M']);
  const child = spawn(process.execPath, [resolve('dist/src/main.js'), 'backup', 'big'], {
    env: { ...process.env, OPENEM_DATA_DIR: d, OPENEM_ADMIN_PASSWORD: ADMIN_PASSWORD },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  await new Promise<void>((r) => {
    const t = setInterval(() => {
      if (/backup big: [1-9]0%/.test(err)) {
        clearInterval(t);
        r();
      }
    }, 5);
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const check = await runCli(d, ['repo', 'check', '--read-data', '--json']);
  const result = JSON.parse(check.stdout);
  assert.equal(result.ok, true, check.stdout);
  assert.equal(result.manifests, 0, 'no restore point is visible');
  const again = JSON.parse(await cliOk(d, ['backup', 'big', '--json']));
  assert.equal(again[0].pointType, 'Full');
  assert.match(await cliOk(d, ['repo', 'check', '--read-data']), /1 restore points/);
});

test('bad input: unknown VM, VM name taken, forget keeps the newest points', async () => {
  const d = newDataDir();
  const missing = await runCli(d, ['backup', 'nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /VM nope was not found/);
  const src = sourceTree();
  await cliOk(d, ['vm', 'create', 'dup', '--from-dir', src, '--size', '32M']);
  const taken = await runCli(d, ['vm', 'create', 'dup', '--from-dir', src, '--size', '32M']);
  assert.notEqual(taken.code, 0);
  for (let i = 0; i < 3; i++) await cliOk(d, ['backup', 'dup']);
  assert.match(await cliOk(d, ['repo', 'forget', '--keep', '1']), /forgot 2 restore points/);
  assert.match(await cliOk(d, ['repo', 'check']), /1 restore points/);
});

test('openem backup --wait refuses what is not a number of seconds, before touching the data directory', async () => {
  const d = newDataDir();
  for (const bad of ['abc', '-5']) {
    const r = await runCli(d, ['backup', 'v1', '--wait', bad]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`--wait takes a number of seconds, not '${bad}'`));
  }
});
