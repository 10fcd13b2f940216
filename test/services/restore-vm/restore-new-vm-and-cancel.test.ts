// KeepOriginalVM (seed 001), removing the task (DELETE /tasks/{ID}) while the restore runs, a server stop midway,
// and the restore slots, through the service.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../../../src/services/app-services.js';
import { startVmRestore } from '../../../src/services/restore-vm/start-vm-restore.js';
import { findVmRestorePoint } from '../../../src/services/inventory/restore-point-records.js';
import type { VmRestoreRequest } from '../../../src/services/restore-vm/vm-restore-request.js';
import { adminPrincipal, backUpWithReference, createVm, diskPath, mixedBlocks, openTestApp, scribble, sessionOfTask, sha256File, waitForStopped } from './restore-fixtures.js';
import { cleanupOf, fileCleanup, tempDir } from '../../helpers/cleanup.js';

const cleanup = fileCleanup();

let app: Awaited<ReturnType<typeof openTestApp>>;
let ctx: AppContext;
let refs: string;
let slowWrites = 0;

/**
 * A seam for "midway": a slow disk. Blocks are written one at a time, each after a little wait, however many
 * writes the fetcher has in flight.
 */
function slowDiskWrites(target: AppContext): void {
  const fetch = target.repository.fetchBlocks.bind(target.repository);
  target.repository.fetchBlocks = (blocks, write, options) => {
    let disk: Promise<unknown> = Promise.resolve();
    return fetch(blocks, (i, d) => {
      const written = disk.then(async () => {
        if (slowWrites) await new Promise((r) => setTimeout(r, slowWrites));
        await write(i, d);
      });
      disk = written.catch(() => undefined);
      return written;
    }, options);
  };
}

before(async () => {
  app = await openTestApp(cleanup, undefined, { maxRestores: 1 });
  ctx = app.ctx;
  refs = tempDir(cleanup, 'openem-refs-');
  slowDiskWrites(ctx);
});

async function start(vmName: string, pointId: string, request: Partial<VmRestoreRequest>, on = ctx) {
  const point = (await findVmRestorePoint(on, pointId))!;
  assert.equal(point.vmName, vmName);
  const task = await startVmRestore(on, await adminPrincipal(on), point, { vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback: false, target: { kind: 'original' }, ...request });
  return { task, sessionId: await sessionOfTask(on, task.taskId) };
}

async function waitForWriting(sessionId: string, on = ctx, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = (await on.restoreSessions.get(sessionId))!;
    if (s.state === 'Working' && s.progress > 0) return s;
    assert.notEqual(s.state, 'Stopped', 'restore ended before it could be stopped midway');
    assert.ok(Date.now() < deadline, `restore session ${sessionId} did not start writing within ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('KeepOriginalVM builds <name>_restored beside the original, byte for byte, and leaves the original alone', async () => {
  await createVm(ctx, 'keeper', mixedBlocks(48));
  const { pointId, reference } = await backUpWithReference(ctx, 'keeper', refs);
  const { sessionId } = await start('keeper', pointId, { powerOnAfterRestore: true, target: { kind: 'new-vm', name: 'keeper_restored' } });
  const s = await waitForStopped(ctx, sessionId);
  assert.equal(s.result, 'Success', s.failureMessage);
  const restored = (await ctx.platform.findVm('keeper_restored'))!;
  assert.equal(restored.powerState, 'PoweredOn');
  assert.deepEqual(s.restoredVm, { platform: 'vsphere', hierarchyRootId: restored.hierarchyRootId, vmId: restored.id });
  assert.equal(await sha256File(await diskPath(ctx, 'keeper_restored')), await sha256File(reference));
  assert.equal((await ctx.platform.findVm('keeper'))!.powerState, 'PoweredOn', 'the original keeps running');
});

test('removing the task while an in-place restore writes leaves the restore running to Success, byte for byte', async () => {
  await createVm(ctx, 'keepgoing', mixedBlocks(64));
  const { pointId, reference } = await backUpWithReference(ctx, 'keepgoing', refs);
  await scribble(await diskPath(ctx, 'keepgoing'), [0, 1, 9, 40]);
  slowWrites = 10;
  try {
    const { task, sessionId } = await start('keepgoing', pointId, {});
    await waitForWriting(sessionId);
    await ctx.tasks.remove(task.taskId);
    assert.equal(await ctx.tasks.get(task.taskId), undefined, 'the task is gone');
    const s = await waitForStopped(ctx, sessionId);
    assert.equal(s.result, 'Success', s.failureMessage);
    assert.equal(await sha256File(await diskPath(ctx, 'keepgoing')), await sha256File(reference));
  } finally {
    slowWrites = 0;
  }
});

test('a server stopping midway through a KeepOriginalVM restore leaves no VM and no staging folder behind', async (t) => {
  const other = await openTestApp(cleanupOf(t));
  slowDiskWrites(other.ctx);
  try {
    await createVm(other.ctx, 'ghost', mixedBlocks(64));
    const { pointId } = await backUpWithReference(other.ctx, 'ghost', refs);
    slowWrites = 30;
    const { sessionId } = await start('ghost', pointId, { target: { kind: 'new-vm', name: 'ghost_restored' } }, other.ctx);
    await waitForWriting(sessionId, other.ctx);
    await other.close();
    slowWrites = 0;
    const again = await openTestApp(cleanupOf(t), other.dataDir);
    const s = (await again.ctx.restoreSessions.get(sessionId))!;
    assert.equal(s.state, 'Stopped');
    assert.equal(s.result, 'Failed');
    assert.match(s.failureMessage ?? '', /Interrupted: server stopping; no VM named ghost_restored was created/);
    assert.equal(await again.ctx.platform.findVm('ghost_restored'), undefined);
    const ghost = (await again.ctx.platform.findVm('ghost'))!;
    const store = (await again.ctx.platform.datastores()).find((d) => d.id === ghost.datastoreId)!;
    const leftovers = (await readdir(join(other.dataDir, 'datastores', store.name))).filter((n) => n.startsWith('.'));
    assert.deepEqual(leftovers, []);
  } finally {
    slowWrites = 0;
  }
});

test('with one restore slot a second VM waits Starting until the first restore stops', async () => {
  await createVm(ctx, 'first', mixedBlocks(32));
  await createVm(ctx, 'second', mixedBlocks(32));
  const a = await backUpWithReference(ctx, 'first', refs);
  const b = await backUpWithReference(ctx, 'second', refs);
  slowWrites = 10;
  try {
    const one = await start('first', a.pointId, {});
    await waitForWriting(one.sessionId);
    const two = await start('second', b.pointId, {});
    const waiting = (await ctx.restoreSessions.get(two.sessionId))!;
    assert.equal(waiting.state, 'Starting');
    assert.ok(waiting.log.some((l) => /Waiting for a free restore slot/.test(l.text)), JSON.stringify(waiting.log));
    assert.equal((await waitForStopped(ctx, one.sessionId)).result, 'Success');
    assert.equal((await waitForStopped(ctx, two.sessionId)).result, 'Success');
    assert.equal(await sha256File(await diskPath(ctx, 'second')), await sha256File(b.reference));
  } finally {
    slowWrites = 0;
  }
});
