import { createHash } from 'node:crypto';
import { copyFile, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config.js';
import { createLogger } from '../../../src/logger.js';
import { createBaseContext } from '../../../src/app-context.js';
import { attachServices } from '../../../src/attach-services.js';
import { asLocalPlatform } from '../../../src/platform/local/local-admin.js';
import type { AppContext } from '../../../src/services/app-services.js';
import { resumeInterruptedRestores } from '../../../src/services/restore-vm/resume-interrupted-restores.js';
import { backupVm } from '../../../src/services/backup/backup-vm.js';
import { BLOCK_SIZE } from '../../../src/disks/block-source.js';
import type { PresentedPlatform, VmConfig } from '../../../src/platform/platform.js';
import type { Principal } from '../../../src/services/auth/logon-sessions.js';
import { FULL_SCOPE } from '../../../src/services/auth/roles.js';
import { blockOf, type BlockKind } from '../../repository/repository-fixtures.js';
import { ADMIN_PASSWORD } from '../../helpers/server-process.js';
import { tempDir, type Cleanup } from '../../helpers/cleanup.js';

export { BLOCK_SIZE };

/**
 * An application context on a fresh data directory (or `dataDir`), as `openem serve` builds it (SQLite store).
 * `cleanup` closes it, unless the test closed it first, and removes the fresh directory after that.
 */
export async function openTestApp(cleanup: Cleanup, dataDir?: string, options: { maxRestores?: number } = {}): Promise<{ ctx: AppContext; dataDir: string; close: () => Promise<void> }> {
  const dir = dataDir ?? tempDir(cleanup, 'openem-restore-');
  const config = loadConfig({ env: { OPENEM_ADMIN_PASSWORD: ADMIN_PASSWORD }, flags: { dataDir: dir, maxRestores: options.maxRestores } });
  const base = await createBaseContext(config, createLogger('silent'), { announce: () => {} });
  const ctx = await attachServices(base, { demo: false });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await ctx.shutdown();
      await base.store.close();
    })());
  cleanup.defer(close);
  await resumeInterruptedRestores(ctx);
  return { ctx, dataDir: dir, close };
}

/** A mix like a real disk: random (incompressible), text (compressible) and zero blocks, in a repeating pattern. */
export function mixedBlocks(count: number): BlockKind[] {
  return Array.from({ length: count }, (_, i): BlockKind => (i % 4 === 0 || i % 4 === 1 ? 'random' : i % 4 === 2 ? 'text' : 'zero'));
}

/** Creates a VM whose disk0 holds the given blocks (zero blocks stay holes), through the platform interface. */
export async function createVm(ctx: AppContext, name: string, kinds: BlockKind[], platform: PresentedPlatform = 'vsphere'): Promise<VmConfig> {
  const size = kinds.length * BLOCK_SIZE;
  const staged = await ctx.platform.stageNewVm({
    name,
    cpus: 2,
    memoryMiB: 1024,
    powerState: 'PoweredOn',
    guestOs: 'linux',
    platform,
    hierarchyRootId: '',
    datastoreId: '',
    disks: [{ name: 'disk0', size }],
  });
  const w = await staged.openDiskForWrite('disk0');
  try {
    for (let i = 0; i < kinds.length; i++) if (kinds[i] !== 'zero') await w.write(i * BLOCK_SIZE, blockOf(kinds[i]));
    await w.sync();
  } finally {
    await w.close();
  }
  return staged.commit();
}

export async function diskPath(ctx: AppContext, vmName: string, disk = 'disk0'): Promise<string> {
  const vm = await ctx.platform.findVm(vmName);
  if (!vm) throw new Error(`no VM ${vmName}`);
  return asLocalPlatform(await ctx.platform.platformOf(vm.id)).diskImagePath(vm.id, disk);
}

/** Backs the VM up and keeps a copy of its disk as it was, to compare restored bytes with. */
export async function backUpWithReference(ctx: AppContext, vmName: string, referenceDir: string): Promise<{ pointId: string; reference: string }> {
  const r = await backupVm(ctx, vmName);
  const reference = join(referenceDir, `${vmName}-${r.manifest.id}.img`);
  await copyFile(await diskPath(ctx, vmName), reference);
  return { pointId: r.manifest.id, reference };
}

/** Overwrites the given blocks with fresh random data (what a VM does between backups). */
export async function scribble(path: string, blocks: number[]): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    for (const i of blocks) await fh.write(blockOf('random'), 0, BLOCK_SIZE, i * BLOCK_SIZE);
  } finally {
    await fh.close();
  }
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** A Portal Administrator principal for calling services directly. */
export async function adminPrincipal(ctx: AppContext): Promise<Principal> {
  const row = await ctx.store.db.selectFrom('accounts').selectAll().where('name', '=', 'admin').executeTakeFirstOrThrow();
  return {
    session: { id: 'test-session' } as Principal['session'],
    account: { id: row.id, name: row.name, role: 'portal-admin', scope: FULL_SCOPE, createdAt: 0, passwordChangedAt: 0 },
    sessionId: '00000000-0000-4000-8000-000000000000',
  };
}

/** Polls the store until the session is Stopped. */
export async function waitForStopped(ctx: AppContext, sessionId: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await ctx.restoreSessions.get(sessionId);
    if (s?.state === 'Stopped') return s;
    if (Date.now() > deadline) throw new Error(`session ${sessionId} did not stop: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Counters of a session's per-disk log line (apply-disk-plan.ts describeCounters). */
export function diskCounters(log: { text: string }[]): { fetched: number; written: number; zeroed: number; unchanged: number } {
  const line = log.map((l) => l.text).find((t) => t.startsWith('Disk disk0:'));
  if (!line) throw new Error(`no disk line in ${JSON.stringify(log)}`);
  const n = (re: RegExp) => Number(re.exec(line)![1]);
  return { fetched: n(/fetched (\d+) blocks/), written: n(/wrote (\d+) blocks/), zeroed: n(/zeroed (\d+) blocks/), unchanged: n(/left (\d+) blocks unchanged/) };
}

/** The session a StartVMRestore task points at (its Related link), once the task has set it. */
export async function sessionOfTask(ctx: AppContext, taskId: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const t = await ctx.tasks.get(taskId);
    if (t?.related?.kind === 'restoreSession') return t.related.sessionId;
    if (Date.now() > deadline) throw new Error(`task ${taskId} never pointed at a session`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
