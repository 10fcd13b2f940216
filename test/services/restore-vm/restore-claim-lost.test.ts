// A restore whose VM claim another node took over (believing this one dead) stops writing and fails: its session
// says the claim was lost and the VM's mark turns `failed` — it is not left Working to be resumed at the next start
// over the other node's work, as a stop of the server would be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../../src/services/app-services.js';
import { startVmRestore } from '../../../src/services/restore-vm/start-vm-restore.js';
import { findVmRestorePoint } from '../../../src/services/inventory/restore-point-records.js';
import { adminPrincipal, backUpWithReference, createVm, diskPath, mixedBlocks, openTestApp, scribble, sessionOfTask } from './restore-fixtures.js';
import { cleanupOf, fileCleanup, tempDir } from '../../helpers/cleanup.js';

const refs = tempDir(fileCleanup(), 'openem-refs-');

/** Slows every block written, so the restore is still writing when the claim is taken over. */
function slowDiskWrites(ctx: AppContext): void {
  const fetch = ctx.repository.fetchBlocks.bind(ctx.repository);
  ctx.repository.fetchBlocks = (blocks, write, options) =>
    fetch(blocks, async (i, d) => {
      await new Promise((r) => setTimeout(r, 40));
      await write(i, d);
    }, options);
}

/** What another node does when it believes this one dead: deletes the stale row and claims the VM itself. */
async function takeClaimOverAsAnotherNode(ctx: AppContext, vm: { id: string; name: string }): Promise<void> {
  const db = ctx.store.db;
  await db.deleteFrom('vm_claims').where('vm_id', '=', vm.id).execute();
  const now = Date.now();
  await db.insertInto('vm_claims').values({ vm_id: vm.id, vm_name: vm.name, kind: 'backup', holder: 'backup job on node-b', node_id: randomUUID(), pid: 4242, host: 'node-b', claimed_at: now, heartbeat_at: now }).execute();
}

test('a restore whose VM claim is taken over mid-write fails saying the claim was lost, and marks the VM failed', async (t) => {
  const app = await openTestApp(cleanupOf(t));
  const { ctx } = app;
  await createVm(ctx, 'taken-over', mixedBlocks(64));
  const { pointId } = await backUpWithReference(ctx, 'taken-over', refs);
  await scribble(await diskPath(ctx, 'taken-over'), [0, 1, 4, 5, 8, 9, 12, 13, 40, 41]);
  slowDiskWrites(ctx);
  const point = (await findVmRestorePoint(ctx, pointId))!;
  const task = await startVmRestore(ctx, await adminPrincipal(ctx), point, { vmRestorePointId: pointId, powerOnAfterRestore: false, quickRollback: false, target: { kind: 'original' } });
  const sessionId = await sessionOfTask(ctx, task.taskId);

  const deadline = Date.now() + 60_000;
  let vm = await ctx.platform.findVm('taken-over');
  while (vm?.restoreIncomplete?.state !== 'writing') {
    assert.ok(Date.now() < deadline, 'the restore was not marked writing');
    await new Promise((r) => setTimeout(r, 10));
    vm = await ctx.platform.findVm('taken-over');
  }
  await takeClaimOverAsAnotherNode(ctx, vm);
  await ctx.vmClaims.heartbeat(); // what the next beat would notice

  // Stopped (Failed), or — the bug — left Working for the next start to resume.
  let s = await ctx.restoreSessions.get(sessionId);
  while (s?.state !== 'Stopped' && !s?.log.some((l) => /the restore resumes when the server starts again/.test(l.text))) {
    assert.ok(Date.now() < deadline, `the session did not end: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 20));
    s = await ctx.restoreSessions.get(sessionId);
  }
  assert.equal(s?.state, 'Stopped', `the session is left open to resume: ${s?.log.map((l) => l.text).join('\n')}`);
  assert.equal(s.result, 'Failed');
  assert.match(s.failureMessage ?? '', /lost its claim of VM taken-over: another openem process took it over/);
  const mark = (await ctx.platform.findVm('taken-over'))?.restoreIncomplete;
  assert.equal(mark?.state, 'failed');
  assert.equal(mark.sessionId, sessionId);
  assert.match(mark.reason ?? '', /lost its claim/);
  assert.equal((await ctx.vmClaims.holderOf(vm.id))?.holder, 'backup job on node-b', "the other node's claim stays");
  await ctx.store.db.deleteFrom('vm_claims').where('vm_id', '=', vm.id).execute();
});
