import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, openemDetails, waitFor } from '../helpers/em-client.js';
import { backedUpVm, body, mount, pointIdOf } from '../services/mounts/flr-fixture.js';
import { cleanupOf, type Cleanup } from '../helpers/cleanup.js';

interface Proc {
  pid: number;
  ppid: number;
  cmdline: string;
}

/** Every live (non-zombie) process, from /proc. */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      out.push({ pid: Number(name), ppid: Number(fields[1]), cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ') });
    } catch {
      // it ended while we looked
    }
  }
  return out;
}

function fuseMountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f.length > 4 && f[4].startsWith(dir + '/'))
    .map((f) => f[4]);
}

async function mountedFolder(cleanup: Cleanup, server: ServerProcess): Promise<{ c: EmClient; href: string; folder: string }> {
  const c = new EmClient(server.http, 'json');
  await c.logOn();
  const href = await mount(cleanup, c, await pointIdOf(c, 'web01'));
  const folder = (await openemDetails(c, body(c, (await c.get(href)).body, 'VmRestorePointMount'), 'MountDetails')).LocalFolder;
  assert.ok(folder, 'the mount has a FUSE folder');
  return { c, href, folder };
}

test('after SIGKILL of the server no helper it started lives on, and the next start leaves no stale mount or work folder and reuses the plain folder name', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'openem-kill-'));
  const fakeBin = mkdtempSync(join(tmpdir(), 'openem-kill-bin-'));
  let server: ServerProcess | undefined;
  t.after(async () => {
    await server?.stop();
    // Should the test fail between the kill and the restart, the dead mount is detached here (argv only).
    for (const m of fuseMountsUnder(dataDir)) spawnSync('fusermount', ['-uz', '--', m]);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(fakeBin, { recursive: true, force: true });
  });
  const src = await backedUpVm(cleanupOf(t), dataDir, 'web01');

  // A helper that runs long: the restore's filefrag (found on PATH first) loops until something kills it.
  writeFileSync(join(fakeBin, 'filefrag'), '#!/bin/sh\nwhile :; do sleep 1; done\n');
  chmodSync(join(fakeBin, 'filefrag'), 0o755);
  server = await startServerProcess({ dataDir, env: { PATH: `${fakeBin}:${process.env.PATH}` } });
  const serverPid = server.proc.pid!;
  const first = await mountedFolder(cleanupOf(t), server);
  assert.equal(first.folder, join(dataDir, 'flr', 'web01'));
  // Work a guest restore or demo set-up would have left in flight.
  mkdirSync(join(dataDir, 'flr-work', 'restore-abc123', 'etc'), { recursive: true });
  writeFileSync(join(dataDir, 'flr-work', 'restore-abc123', 'etc', 'staged'), 'half a restore\n');
  mkdirSync(join(dataDir, '.demo-src-xyz'));

  // A QuickRollback restore maps the live disk's data first: that is the filefrag run.
  const id = await pointIdOf(first.c, 'web01');
  const started = await first.c.request('POST', `${first.c.base}/api/vmRestorePoints/${id}?action=restore`, {
    body: '{"VmRestoreSpec":{"PowerOnAfterRestore":false,"QuickRollback":true}}',
  });
  assert.equal(started.status, 202, started.text);
  const helper = await waitFor('the restore to run its (long) filefrag', async () =>
    processes().find((p) => p.ppid === serverPid && p.cmdline.includes(join(fakeBin, 'filefrag')) && p.cmdline.includes(dataDir)), 90_000, 20);
  const children = processes().filter((p) => p.ppid === serverPid);
  assert.ok(children.some((p) => p.pid === helper.pid));

  await server.kill();
  server = undefined;
  await waitFor('every child of the killed server to end', async () => {
    const alive = new Set(processes().map((p) => p.pid));
    return children.every((p) => !alive.has(p.pid)) ? true : undefined;
  }, 10_000, 20);
  const mine = processes().filter((p) => p.cmdline.includes(dataDir) && p.pid !== process.pid);
  assert.deepEqual(mine, [], 'no process works on the data directory after the server died');
  // What the kill left: the FUSE folder is a dead mount.
  assert.throws(() => statSync(first.folder), { code: /^(ENOTCONN|ECONNABORTED)$/ });
  assert.deepEqual(fuseMountsUnder(dataDir), [first.folder]);

  server = await startServerProcess({ dataDir });
  assert.deepEqual(fuseMountsUnder(dataDir), [], 'no stale mount after the restart');
  assert.ok(!existsSync(join(dataDir, 'flr-work')), 'the work folder is gone');
  assert.ok(!existsSync(join(dataDir, '.demo-src-xyz')), 'the demo scratch folder is gone');
  assert.deepEqual(readdirSync(join(dataDir, 'flr')), [], 'no leftover mount point');
  const again = await mountedFolder(cleanupOf(t), server);
  assert.equal(again.folder, join(dataDir, 'flr', 'web01'), 'a new mount of the same VM gets the plain name');
  assert.equal(readFileSync(join(again.folder, 'etc', 'hostname'), 'utf8'), readFileSync(join(src, 'etc', 'hostname'), 'utf8'));
  assert.equal((await again.c.request('DELETE', again.href)).status, 204);
});
