import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliOk } from '../../helpers/cli.js';
import { type EmClient, findLink, waitFor } from '../../helpers/em-client.js';
import { tempDir, type Cleanup } from '../../helpers/cleanup.js';

/**
 * A guest tree with the awkward parts FLR must get right: nested folders, a space and non-ASCII in names, a
 * binary file spanning several 1 MiB blocks, a symlink. Returns the host folder it was built from, the truth the
 * tests compare downloaded and restored bytes with.
 */
export function writeGuestTree(dir: string): void {
  mkdirSync(join(dir, 'etc', 'nginx', 'conf.d'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'nginx', 'nginx.conf'), 'worker_processes 4;\nevents { worker_connections 1024; }\n');
  writeFileSync(join(dir, 'etc', 'nginx', 'conf.d', 'site.conf'), 'server { listen 80; }\n');
  writeFileSync(join(dir, 'etc', 'hostname'), 'web01\n');
  mkdirSync(join(dir, 'srv', 'app', 'static'), { recursive: true });
  writeFileSync(join(dir, 'srv', 'app', 'data.bin'), randomBytes(3 * 1024 * 1024 + 123));
  writeFileSync(join(dir, 'srv', 'app', 'static', 'index.html'), '<h1>hello</h1>\n');
  symlinkSync('static/index.html', join(dir, 'srv', 'app', 'current'));
  mkdirSync(join(dir, 'home', 'ana', 'my docs'), { recursive: true });
  writeFileSync(join(dir, 'home', 'ana', 'my docs', 'café résumé.txt'), 'ça marche\n');
}

/**
 * Builds a VM from a fresh guest tree and backs it up once with the CLI; returns the tree's folder, which
 * `cleanup` removes.
 */
export async function backedUpVm(cleanup: Cleanup, dataDir: string, name: string, platform: 'vsphere' | 'hyperv' | 'vcloud' = 'vsphere', size = '64M'): Promise<string> {
  const src = tempDir(cleanup, `openem-flr-src-${name}-`);
  writeGuestTree(src);
  await cliOk(dataDir, ['vm', 'create', name, '--from-dir', src, '--size', size, '--platform', platform]);
  await cliOk(dataDir, ['backup', name]);
  return src;
}

export const body = (c: EmClient, x: any, root: string) => (c.format === 'xml' ? x[root] : x);

/** The id of a VM's newest restore point, found as a client would (the VM restore point list). */
export async function pointIdOf(c: EmClient, vmName: string): Promise<string> {
  const r = await c.get(`${c.base}/api/vmRestorePoints`);
  const refs = c.format === 'xml' ? r.body.EntityReferences.Ref : r.body.Refs;
  const mine = refs.filter((x: any) => x.Name.startsWith(`${vmName}@`)).sort((a: any, b: any) => (a.Name < b.Name ? 1 : -1));
  if (!mine.length) throw new Error(`no restore point of ${vmName}`);
  return mine[0].UID.split(':').pop();
}

/** Polls a task until Finished; returns it. */
export async function finishedTask(c: EmClient, taskHref: string): Promise<any> {
  return waitFor('task to finish', async () => {
    const t = await c.get(taskHref);
    const task = body(c, t.body, 'Task');
    return task.State === 'Finished' ? task : undefined;
  }, 60_000, 50);
}

/** Polls a restore session until Stopped; returns it. */
export async function stoppedSession(c: EmClient, href: string): Promise<any> {
  return waitFor('restore session to stop', async () => {
    const s = await c.get(href);
    const session = body(c, s.body, 'RestoreSession');
    return session.State === 'Stopped' ? session : undefined;
  }, 120_000, 100);
}

/**
 * POST a mount (optionally with a body) and follow the finished task to the mount resource's href. `cleanup`
 * removes the mount when the test ends, unless the test removed it (404) or stopped the server first.
 */
export async function mount(cleanup: Cleanup, c: EmClient, pointId: string, requestBody?: { xml: string; json: string }): Promise<string> {
  const r = await c.request('POST', `${c.base}/api/vmRestorePoints/${pointId}/mounts`, requestBody ? { body: c.format === 'xml' ? requestBody.xml : requestBody.json } : {});
  if (r.status !== 202) throw new Error(`mount answered ${r.status}: ${r.text}`);
  const task = await finishedTask(c, body(c, r.body, 'Task').Href);
  const related = findLink(task, 'Related', 'VmRestorePointMount');
  if (!related) throw new Error(`mount task has no mount link: ${JSON.stringify(task)}`);
  cleanup.defer(() => unmountIfThere(c, related.Href));
  return related.Href;
}

/** DELETEs a mount that may already be gone; a server that has stopped took its mounts with it. */
export async function unmountIfThere(c: EmClient, href: string): Promise<void> {
  let status: number;
  try {
    status = (await c.request('DELETE', href)).status;
  } catch (e) {
    if ((e as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED') return;
    throw e;
  }
  if (status !== 204 && status !== 404) throw new Error(`removing mount ${href} answered ${status}`);
}

/** Entries of a FileSystemEntries body, in either format. */
export function entriesOf(c: EmClient, r: any): { files: any[]; dirs: any[]; paging: any } {
  const fse = body(c, r, 'FileSystemEntries');
  if (c.format === 'xml') return { files: fse.Files?.FileEntry ?? [], dirs: fse.Directories?.DirectoryEntry ?? [], paging: fse.PagingInfo };
  return { files: fse.Files ?? [], dirs: fse.Directories ?? [], paging: fse.PagingInfo };
}

/** The live VM's disk image (from `openem vm show`), where restores write. */
export async function liveImage(dataDir: string, vmName: string): Promise<string> {
  const shown = JSON.parse(await cliOk(dataDir, ['vm', 'show', vmName, '--json']));
  return shown.disks[0].path;
}

/** The root partition of VMs built from a folder starts at 1 MiB (create-vm-from-directory.ts). */
export const ROOT_OFFSET = 1024 * 1024;

/**
 * Runs debugfs commands against the live VM's filesystem (to change or delete files before a restore). Test
 * arrangement only, with the tests' own fixed names; openem itself never writes through debugfs.
 */
export async function debugfsWrite(image: string, commands: string[]): Promise<void> {
  const { imageWithOffset } = await import('../../../src/guestfs/ext4/e2fsprogs.js');
  const { requireTool } = await import('../../../src/host/find-tool.js');
  const dir = mkdtempSync(join(tmpdir(), 'openem-flr-cmd-'));
  const file = join(dir, 'cmds');
  writeFileSync(file, commands.join('\n') + '\n');
  const r = spawnSync(await requireTool('debugfs', 'e2fsprogs'), ['-w', '-f', file, imageWithOffset(image, ROOT_OFFSET)], { encoding: 'utf8' });
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`debugfs failed: ${r.stderr}`);
}

/**
 * Reads a file out of the live VM's image with debugfs `dump` (read-only): e2fsprogs' reader, not openem's own,
 * which the guest writer also uses to check itself — so a restore is judged by an independent oracle.
 * Undefined when there is no such file. debugfs runs from an argv array; `path` is the tests' own fixed name.
 */
export async function readLive(image: string, path: string): Promise<Buffer | undefined> {
  const { requireTool } = await import('../../../src/host/find-tool.js');
  assert.ok(!/["\\\n]/.test(path) && !image.includes('?'), `a path debugfs can be given: ${path}`);
  const dir = mkdtempSync(join(tmpdir(), 'openem-flr-dump-'));
  try {
    const out = join(dir, 'file');
    const r = spawnSync(await requireTool('debugfs', 'e2fsprogs'), ['-R', `dump "${path}" "${out}"`, `${image}?offset=${ROOT_OFFSET}`], { encoding: 'utf8' });
    assert.equal(r.status, 0, `debugfs dump ${path}: ${r.stderr}`);
    if (existsSync(out)) return readFileSync(out);
    assert.match(r.stderr, /File not found by ext2_lookup/, `debugfs dump ${path} wrote nothing: ${r.stderr}`);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `e2fsck -fn` on the live VM's filesystem; throws when it is not clean. */
export async function assertLiveClean(image: string): Promise<void> {
  const { checkFilesystemClean } = await import('../../../src/guestfs/ext4/e2fsprogs.js');
  await checkFilesystemClean(image, ROOT_OFFSET);
}
