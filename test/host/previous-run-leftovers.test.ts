import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { findTool } from '../../src/host/find-tool.js';
import { detachFuseMount, fuseMountsUnder, parseFuseMounts } from '../../src/host/fuse-mounts.js';
import { runHelper, spawnHelper, type HelperProcess } from '../../src/host/helper-process.js';
import { removePreviousRunLeftovers } from '../../src/host/previous-run-leftovers.js';

const log = pino({ level: 'silent' });

function mountedAt(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
}

async function waitUntil(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A real FUSE mount: fuse2fs in the foreground serving a fresh ext4 image at `at`. */
async function fuse2fsAt(image: string, at: string): Promise<HelperProcess> {
  mkdirSync(at, { recursive: true });
  const daemon = await spawnHelper('fuse2fs', ['-f', image, at], { debianPackage: 'fuse2fs', stdio: 'ignore' });
  await waitUntil(`fuse2fs to mount ${at}`, () => mountedAt(at));
  return daemon;
}

test('mountinfo paths are unescaped to their bytes, and only FUSE mounts are listed', () => {
  const text = [
    '36 25 0:32 / /data/flr/my\\040vm rw,nosuid,nodev - fuse.openem-flr openem rw,user_id=0,group_id=0',
    '37 25 0:33 / /data/flr-work/fuse2fs-x/root rw - fuse /tmp/img rw,user_id=0',
    '38 25 0:34 / /data/flr/caf\\303\\251 rw - fuseblk dev rw',
    '39 25 0:35 / /data/flr/bad\\377 rw - fuse.openem-flr openem rw',
    '24 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  ].join('\n');
  const mounts = parseFuseMounts(text);
  assert.deepEqual(mounts.map((m) => m.path), ['/data/flr/my vm', '/data/flr-work/fuse2fs-x/root', '/data/flr/café', undefined]);
  assert.deepEqual(mounts[3].pathBytes, Buffer.concat([Buffer.from('/data/flr/bad'), Buffer.from([0xff])]));
});

test('at start, dead FUSE mounts are detached and work folders removed; a live mount of someone else and the folder holding it stay', async (t) => {
  // The suite requires fuse2fs and /dev/fuse (scripts/preflight.mjs): without them this fails, it does not skip.
  assert.ok(await findTool('fuse2fs'), "fuse2fs is installed (Debian package 'fuse2fs')");
  assert.ok(existsSync('/dev/fuse'), '/dev/fuse exists');
  const dataDir = mkdtempSync(join(tmpdir(), 'openem-leftovers-'));
  const live: HelperProcess[] = [];
  t.after(async () => {
    for (const m of await fuseMountsUnder([dataDir])) if (m.path) await detachFuseMount(m.path).catch(() => undefined);
    for (const d of live) await d.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  const image = join(dataDir, 'fs.img');
  writeFileSync(image, '');
  await runHelper('mke2fs', ['-q', '-F', '-t', 'ext4', image, '8M'], { debianPackage: 'e2fsprogs' });

  // A helper mount whose daemon died with its server, a dead FLR folder, and scratch data.
  const deadHelperMount = join(dataDir, 'flr-work', 'fuse2fs-dead', 'root');
  const dead = await fuse2fsAt(image, deadHelperMount);
  await dead.stop('SIGKILL');
  writeFileSync(join(dataDir, 'flr-work', 'staged'), 'x');
  // A live mount of another process, inside a folder that looks like ours.
  const other = join(dataDir, '.demo-src-live', 'mnt');
  live.push(await fuse2fsAt(`${image}`, other));
  mkdirSync(join(dataDir, 'flr', 'web01'), { recursive: true });

  const r = await removePreviousRunLeftovers({ dataDir, flrRoot: join(dataDir, 'flr') }, log);
  assert.deepEqual(r.detachedMounts, [deadHelperMount]);
  assert.deepEqual(r.liveMounts, [other]);
  assert.ok(!mountedAt(deadHelperMount));
  assert.ok(!existsSync(join(dataDir, 'flr-work')), 'the work folder is gone');
  assert.ok(mountedAt(other), 'the live mount is untouched');
  assert.ok(existsSync(join(other, 'lost+found')), 'and still serves its filesystem');
  assert.deepEqual(readdirSync(join(dataDir, 'flr')), [], 'the empty mount point is removed');
});
