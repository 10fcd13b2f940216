// Issue #13: the private libvirt daemon (src/platform/kvm/private-libvirtd.ts) ends with its owner, even a killed
// one, and the next start on the same folder cleans what the killed run left and keeps what libvirt stored.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { startPrivateLibvirtd } from '../../../src/platform/kvm/private-libvirtd.js';
import { cleanupOf, tempDir } from '../../helpers/cleanup.js';
import { daemonsOf, guestsOf, until } from './libvirt-processes.js';

const CHILD = join(import.meta.dirname, 'private-libvirtd-child.ts');
const exists = (p: string) => stat(p).then(() => true, () => false);

function virsh(runDir: string, ...args: string[]): string {
  const r = spawnSync('virsh', ['-q', '-c', `qemu:///session?socket=${runDir}/run/libvirt/libvirt-sock`, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`virsh ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A folder for a daemon folder: the daemon runs as nobody, who must pass through it. */
async function daemonParent(t: { after(fn: () => unknown): unknown }): Promise<string> {
  const parent = tempDir(cleanupOf(t), 'openem-lvd-');
  await chmod(parent, 0o711);
  return parent;
}

/** Runs the child on `dir` until it is ready; returns it and its run folder. */
async function startOwner(t: { after(fn: () => unknown): unknown }, dir: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanupOf(t).defer(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await until('the child is ready', async () => {
    if (child.exitCode !== null) throw new Error(`the child exited: ${out}`);
    return /ready (\S+)\n/.test(out);
  });
  return { child, exited, runDir: /ready (\S+)\n/.exec(out)![1] };
}

test("a killed owner takes its libvirt daemon with it; the next start on the folder removes its pid file and sockets, keeps the pool and domains, adopts the running guest, and stop leaves no daemon, guest or socket", async (t) => {
  const dir = join(await daemonParent(t), 'libvirt');
  const first = await startOwner(t, dir);
  const pidFile = join(first.runDir, 'run/libvirt/libvirtd.pid');
  const socket = join(first.runDir, 'run/libvirt/libvirt-sock');
  assert.equal((await daemonsOf(first.runDir)).length, 1, 'the daemon runs');
  // A guest with no disk (its firmware finds nothing to boot and waits), running when its owner is killed.
  const xml = join(dir, 'idle.xml');
  const type = spawnSync('test', ['-w', '/dev/kvm']).status === 0 ? 'kvm' : 'qemu';
  await writeFile(xml, `<domain type='${type}'><name>idle</name><memory unit='MiB'>32</memory><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices/></domain>`);
  virsh(first.runDir, 'define', xml);
  virsh(first.runDir, 'start', 'idle');
  first.child.kill('SIGKILL');
  await first.exited;
  await until('the daemon has died with its owner', async () => (await daemonsOf(first.runDir)).length === 0);
  assert.ok((await exists(pidFile)) && (await exists(socket)), 'a killed run leaves its pid file and socket');
  assert.equal((await guestsOf(first.runDir)).length, 1, "the guest's QEMU outlives the daemon");

  const lv = await startPrivateLibvirtd({ dir });
  cleanupOf(t).defer(() => lv.stop());
  assert.equal(lv.runDir, first.runDir, 'one folder, one run folder');
  const pid = Number((await readFile(pidFile, 'utf8')).trim());
  assert.deepEqual(await daemonsOf(lv.runDir), [pid], 'the pid file names the new daemon');
  assert.match(lv.virsh('pool-list', '--all'), /openem\s+active/, 'the pool is active again');
  assert.equal(lv.virsh('domstate', 'idle').trim(), 'running', 'the new daemon adopts the guest that kept running');
  await lv.stop();
  assert.deepEqual(await daemonsOf(lv.runDir), [], 'no daemon after stop');
  assert.deepEqual(await guestsOf(lv.runDir), [], 'no guest after stop');
  assert.equal(await exists(lv.runDir), false, 'the run folder and its sockets are gone');
  assert.ok(await exists(join(dir, 'config/libvirt/storage/openem.xml')), "the daemon's folder keeps libvirt's config");
});

test("a start on a folder whose daemon's owner still runs is a CONFLICT, and leaves that daemon alone", async (t) => {
  const dir = join(await daemonParent(t), 'libvirt');
  const owner = await startOwner(t, dir);
  await assert.rejects(startPrivateLibvirtd({ dir }), (e: Error & { code?: string }) => e.code === 'CONFLICT' && /another running openem/.test(e.message));
  assert.equal((await daemonsOf(owner.runDir)).length, 1, 'the running daemon is untouched');
  owner.child.kill('SIGKILL');
  await owner.exited;
  await until('the daemon has died with its owner', async () => (await daemonsOf(owner.runDir)).length === 0);
  await rm(owner.runDir, { recursive: true, force: true });
});

test('a start sweeps run folders whose daemon folder is gone, and no other', async (t) => {
  const root = tempDir(cleanupOf(t), 'openem-lvd-');
  const gone = '/run/openem-0000dead';
  const kept = '/run/openem-0000beef';
  for (const [folder, target] of [[gone, join(root, 'gone/config')], [kept, root]]) {
    await mkdir(join(folder, 'run'), { recursive: true });
    await symlink(target, join(folder, 'c'));
  }
  cleanupOf(t).defer(() => rm(kept, { recursive: true, force: true }));
  cleanupOf(t).defer(() => rm(gone, { recursive: true, force: true }));
  const lv = await startPrivateLibvirtd();
  cleanupOf(t).defer(() => lv.stop());
  assert.equal(await exists(gone), false, 'the orphaned run folder is removed');
  assert.ok(await exists(kept), 'a run folder whose daemon folder exists stays');
});
