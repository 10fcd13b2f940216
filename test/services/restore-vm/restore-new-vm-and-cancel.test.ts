// KeepOriginalVM (seed 001), cancellation by DELETE /tasks/{ID}, and the restore slots, through the service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppContext } from '../../../src/services/app-services.js';
import { startVmRestore } from '../../../src/services/restore-vm/start-vm-restore.js';
import { findVmRestorePoint } from '../../../src/services/inventory/restore-point-records.js';
import type { VmRestoreRequest } from '../../../src/services/restore-vm/vm-restore-request.js';
import { adminPrincipal, backUpWithReference, createVm, diskPath, mixedBlocks, openTestApp, sessionOfTask, sha256File, waitForStopped } from './restore-fixtures.js';

let app: Awaited<ReturnType<typeof openTestApp>>;
let ctx: AppContext;
let refs: string;
let slowWrites = 0;

before(async () => {
  app = await openTestApp(undefined, { maxRestores: 1 });
  ctx = app.ctx;
  refs = await mkdtemp(join(tmpdir(), 'openem-refs-'));
  // A seam for "midway": a slow disk. Blocks are written one at a time, each after a little wait, however
  // many writes the fetcher has in flight.
  const fetch = ctx.repository.fetchBlocks.bind(ctx.repository);
  ctx.repository.fetchBlocks = (blocks, write, options) => {
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
});
after(async () => app.close());

async function start(vmName: string, pointId: string, request: Partial<VmRestoreRequest>) {
  const point = (await findVmRestorePoint(ctx, pointId))!;
  assert.equal(point.vmName, vmName);
  const task = await startVmRestore(ctx, await adminPrincipal(ctx), point, { vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback: false, target: { kind: 'original' }, ...request });
  return { task, sessionId: await sessionOfTask(ctx, task.taskId) };
}

async function waitForWriting(sessionId: string) {
  for (;;) {
    const s = (await ctx.restoreSessions.get(sessionId))!;
    if (s.state === 'Working' && s.progress > 0) return s;
    assert.notEqual(s.state, 'Stopped', 'restore ended before it could be stopped midway');
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
  assert.match(s.restoredObjRef ?? '', new RegExp(`^urn:VMware:Vm:.+\\.${restored.id}$`));
  assert.equal(await sha256File(await diskPath(ctx, 'keeper_restored')), await sha256File(reference));
  assert.equal((await ctx.platform.findVm('keeper'))!.powerState, 'PoweredOn', 'the original keeps running');
});

test('a cancelled in-place restore stops midway, leaves the VM powered off and the session says so', async () => {
  await createVm(ctx, 'stopme', mixedBlocks(64));
  const { pointId } = await backUpWithReference(ctx, 'stopme', refs);
  slowWrites = 30;
  try {
    const { task, sessionId } = await start('stopme', pointId, {});
    await waitForWriting(sessionId);
    await ctx.tasks.cancel(task.taskId);
    const s = await waitForStopped(ctx, sessionId);
    assert.equal(s.result, 'Failed');
    assert.match(s.failureMessage ?? '', /cancelled.*VM stopme is left powered off/);
    assert.ok(s.progress < 100);
    assert.equal((await ctx.platform.findVm('stopme'))!.powerState, 'PoweredOff');
    assert.equal((await ctx.tasks.get(task.taskId))!.success, true, 'the task itself had finished Ok when the session started');
  } finally {
    slowWrites = 0;
  }
});

test('a cancelled KeepOriginalVM restore leaves no VM and no staging folder behind', async () => {
  await createVm(ctx, 'ghost', mixedBlocks(64));
  const { pointId } = await backUpWithReference(ctx, 'ghost', refs);
  slowWrites = 30;
  try {
    const { task, sessionId } = await start('ghost', pointId, { target: { kind: 'new-vm', name: 'ghost_restored' } });
    await waitForWriting(sessionId);
    await ctx.tasks.cancel(task.taskId);
    const s = await waitForStopped(ctx, sessionId);
    assert.equal(s.result, 'Failed');
    assert.match(s.failureMessage ?? '', /no VM named ghost_restored was created/);
    assert.equal(await ctx.platform.findVm('ghost_restored'), undefined);
    const ghost = (await ctx.platform.findVm('ghost'))!;
    const store = (await ctx.platform.datastores()).find((d) => d.id === ghost.datastoreId)!;
    const leftovers = (await readdir(join(app.dataDir, 'datastores', store.name))).filter((n) => n.startsWith('.'));
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
