import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { cliOk, runCli } from '../helpers/cli.js';
import { ADMIN_PASSWORD, startServerProcess } from '../helpers/server-process.js';
import { EmClient, openemDetails, waitFor } from '../helpers/em-client.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

function newDataDir(t: TestContext): string {
  return tempDir(cleanupOf(t), 'openem-backup-');
}

function sourceTree(t: TestContext, bigMiB = 0): string {
  const dir = tempDir(cleanupOf(t), 'openem-backup-src-');
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc', 'hostname'), 'vm\n');
  if (bigMiB) writeFileSync(join(dir, 'big.bin'), randomBytes(bigMiB * 2 ** 20));
  return dir;
}

async function vmShow(dataDir: string, name: string) {
  return JSON.parse(await cliOk(dataDir, ['vm', 'show', name, '--json']));
}

test('the first backup is Full, the next an Increment storing only what changed', async (t) => {
  const d = newDataDir(t);
  await cliOk(d, ['vm', 'create', 'v1', '--from-dir', sourceTree(t, 4), '--size', '64M']);
  const full = JSON.parse(await cliOk(d, ['backup', 'v1', '--json']));
  assert.equal(full[0].pointType, 'Full');
  assert.ok(full[0].stats.blocksNew >= 4);
  const inc = JSON.parse(await cliOk(d, ['backup', 'v1', '--json']));
  assert.equal(inc[0].pointType, 'Increment');
  assert.equal(inc[0].stats.blocksNew, 0, 'nothing changed, nothing new stored');
  assert.match(await cliOk(d, ['repo', 'check', '--read-data']), /repository is clean/);
});

test('a disk without a partition table or ext4 is backed up but not indexed, and the catalog says why', async (t) => {
  const d = newDataDir(t);
  await cliOk(d, ['vm', 'create', 'raw', '--from-dir', sourceTree(t), '--size', '32M']);
  const vm = await vmShow(d, 'raw');
  assert.equal(vm.disks.length, 1, JSON.stringify(vm));
  const image: string = vm.disks[0].path;
  assert.equal(typeof image, 'string', `vm show --json lists the disk image as disks[0].path: ${JSON.stringify(vm)}`);
  const fd = openSync(image, 'r+');
  writeSync(fd, randomBytes(4 * 2 ** 20), 0, 4 * 2 ** 20, 0);
  closeSync(fd);
  await cliOk(d, ['backup', 'raw']);
  const server = await startServerProcess({ dataDir: d });
  cleanupOf(t).defer(() => server.stop());
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const points = await c.get(`${server.http}/api/catalog/vms/raw/vmRestorePoints?format=Entity`);
  const index = await openemDetails(c, points.body.CatalogVmRestorePoints[0], 'CatalogIndexState');
  assert.equal(index.IndexState, 'NotIndexed');
  assert.match(index.IndexMessage, /not indexed/);
  const vrp = await c.get(`${server.http}/api/vmRestorePoints`);
  assert.equal(vrp.body.Refs.length, 1, 'the point is still a restorable VM restore point');
});

test('a backup killed with SIGKILL leaves no visible restore point; check is clean and the next backup succeeds', async (t) => {
  const d = newDataDir(t);
  await cliOk(d, ['vm', 'create', 'big', '--from-dir', sourceTree(t, 160), '--size', '256M']);
  const child = spawn(process.execPath, [resolve('dist/src/main.js'), 'backup', 'big'], {
    env: { ...process.env, OPENEM_DATA_DIR: d, OPENEM_ADMIN_PASSWORD: ADMIN_PASSWORD },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  cleanupOf(t).defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let err = '';
  child.stderr.on('data', (b) => (err += b));
  await waitFor(
    'the backup of big to report 10% or more, before it ends',
    async () => {
      if (/backup big: [1-9]0%/.test(err)) return true;
      if (child.exitCode !== null) throw new Error(`the backup ended with ${child.exitCode} before reporting progress:\n${err}`);
      return undefined;
    },
    120_000,
    5,
  );
  child.kill('SIGKILL');
  await exited;
  const check = await runCli(d, ['repo', 'check', '--read-data', '--json']);
  const result = JSON.parse(check.stdout);
  assert.equal(result.ok, true, check.stdout);
  assert.equal(result.manifests, 0, 'no restore point is visible');
  const again = JSON.parse(await cliOk(d, ['backup', 'big', '--json']));
  assert.equal(again[0].pointType, 'Full');
  assert.match(await cliOk(d, ['repo', 'check', '--read-data']), /1 restore points/);
});

test('bad input: unknown VM, VM name taken, forget keeps the newest points', async (t) => {
  const d = newDataDir(t);
  const missing = await runCli(d, ['backup', 'nope']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /VM nope was not found/);
  const src = sourceTree(t);
  await cliOk(d, ['vm', 'create', 'dup', '--from-dir', src, '--size', '32M']);
  const taken = await runCli(d, ['vm', 'create', 'dup', '--from-dir', src, '--size', '32M']);
  assert.notEqual(taken.code, 0);
  for (let i = 0; i < 3; i++) await cliOk(d, ['backup', 'dup']);
  assert.match(await cliOk(d, ['repo', 'forget', '--keep', '1']), /forgot 2 restore points/);
  assert.match(await cliOk(d, ['repo', 'check']), /1 restore points/);
});

test('openem backup --wait refuses what is not a number of seconds, before touching the data directory', async (t) => {
  const d = newDataDir(t);
  for (const bad of ['abc', '-5']) {
    const r = await runCli(d, ['backup', 'v1', '--wait', bad]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`--wait takes a number of seconds, not '${bad}'`));
  }
});
