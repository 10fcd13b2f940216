import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, openemDetails } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { body, finishedTask, mount, pointIdOf, stoppedSession, writeGuestTree } from '../services/mounts/flr-fixture.js';
import { cleanupOf } from '../helpers/cleanup.js';

interface Found {
  path: string;
  mode: number;
  kind: 'dir' | 'file' | 'mount';
}

/** Every entry below `root`, not entering other filesystems (the FUSE folders of mounts). */
function walk(root: string): Found[] {
  const dev = lstatSync(root).dev;
  const out: Found[] = [];
  const visit = (p: string) => {
    const st = lstatSync(p);
    if (st.dev !== dev) return void out.push({ path: p, mode: st.mode & 0o7777, kind: 'mount' });
    out.push({ path: p, mode: st.mode & 0o7777, kind: st.isDirectory() ? 'dir' : 'file' });
    if (st.isDirectory()) for (const n of readdirSync(p)) visit(join(p, n));
  };
  visit(root);
  return out;
}

function assertPrivate(root: string, entries: Found[]): void {
  const wrong = entries
    .filter((e) => e.kind !== 'mount' && e.mode !== (e.kind === 'dir' ? 0o700 : 0o600))
    .map((e) => `${relative(root, e.path) || '.'} ${e.kind} ${e.mode.toString(8)}`);
  assert.deepEqual(wrong, [], 'every folder is 0700 and every file 0600');
}

/** Runs `fn` with the process umask at `mask`: children (CLI, server) inherit it. */
async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const saved = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(saved);
  }
}

test('under umask 0, after create, backup, a VM restore, a file restore and a mount, the data directory is 0700 folders and 0600 files', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'openem-private-'));
  const dataDir = join(parent, 'data');
  const src = mkdtempSync(join(tmpdir(), 'openem-private-src-'));
  let server: ServerProcess | undefined;
  // One hook, in this order: the server unmounts its folders on stop, and only then can the folders go.
  t.after(async () => {
    await server?.stop();
    rmSync(parent, { recursive: true, force: true });
    rmSync(src, { recursive: true, force: true });
  });
  writeGuestTree(src);
  await withUmask(0, async () => {
    await cliOk(dataDir, ['vm', 'create', 'web01', '--from-dir', src, '--size', '64M']);
    await cliOk(dataDir, ['backup', 'web01']);
    server = await startServerProcess({ dataDir });
    const c = new EmClient(server!.http, 'json');
    await c.logOn();
    const id = await pointIdOf(c, 'web01');

    const file = await c.request('POST', `${c.base}/api/catalog/vms/web01/vmRestorePoints/${id}/guestfs/etc/hostname?action=restore`);
    assert.equal(file.status, 202, file.text);
    const fileTask = await finishedTask(c, body(c, file.body, 'Task').Href);
    assert.equal((await stoppedSession(c, findLink(fileTask, 'Related', 'RestoreSession')!.Href)).Result, 'Success');

    const vm = await c.request('POST', `${c.base}/api/vmRestorePoints/${id}?action=restore`);
    assert.equal(vm.status, 202, vm.text);
    const vmTask = await finishedTask(c, body(c, vm.body, 'Task').Href);
    assert.equal((await stoppedSession(c, findLink(vmTask, 'Related', 'RestoreSession')!.Href)).Result, 'Success');

    const href = await mount(cleanupOf(t), c, id);
    const folder = (await openemDetails(c, body(c, (await c.get(href)).body, 'VmRestorePointMount'), 'MountDetails')).LocalFolder;
    assert.equal(folder, join(dataDir, 'flr', 'web01'));

    const entries = walk(dataDir);
    for (const name of ['state.db', 'state.db-wal', 'state.db-shm', 'platform.json', 'repository', 'datastores', 'tls/server.key', 'tls/server.crt', 'flr']) {
      assert.ok(entries.some((e) => e.path === join(dataDir, name)), `${name} exists and is checked`);
    }
    assert.ok(entries.filter((e) => e.path.includes(`${join(dataDir, 'repository')}/`) && e.kind === 'file').length > 2, 'repository files are checked');
    assert.ok(entries.some((e) => e.path.endsWith('.img') || e.path.includes('datastores/') && e.kind === 'file'), 'disk images are checked');
    assertPrivate(dataDir, entries);
    // The mount point is a FUSE root: it shows the guest's / (read-only: write bits cleared), and is the one
    // entry not held to 0700. What guards it is the 0700 FLR root around it (flr-private-folder.test.ts).
    const mounts = entries.filter((e) => e.kind === 'mount');
    assert.deepEqual(mounts.map((m) => m.path), [folder]);
    assert.equal(mounts[0].mode & 0o222, 0);
    assert.equal((await c.request('DELETE', href)).status, 204);
  });
});

test('an existing data directory with 0755 folders and 0644 files is made private when the server starts', async (t) => {
  const parent = mkdtempSync(join(tmpdir(), 'openem-private-old-'));
  const dataDir = join(parent, 'data');
  const src = mkdtempSync(join(tmpdir(), 'openem-private-src-'));
  let server: ServerProcess | undefined;
  t.after(async () => {
    await server?.stop();
    rmSync(parent, { recursive: true, force: true });
    rmSync(src, { recursive: true, force: true });
  });
  writeGuestTree(src);
  await cliOk(dataDir, ['vm', 'create', 'web01', '--from-dir', src, '--size', '64M']);
  await cliOk(dataDir, ['backup', 'web01']);
  writeFileSync(join(dataDir, 'openem.json'), '{}\n');
  // What an older openem left: everything world-readable.
  for (const e of walk(dataDir)) chmodSync(e.path, e.kind === 'dir' ? 0o755 : 0o644);
  assert.equal(statSync(join(dataDir, 'state.db')).mode & 0o777, 0o644);
  server = await startServerProcess({ dataDir });
  assertPrivate(dataDir, walk(dataDir));
});
