import type { AppContext } from '../app-services.js';
import { putBackNtfsDescriptors, type DescriptorJournal, type ReplacedDescriptor } from '../../guestfs/ntfs/ntfs3g-descriptor-journal.js';
import type { VmClaim } from '../../tasks/vm-claims.js';
import { importJournalFiles } from './permissions-journal-files.js';
import { liveGuestTarget, liveGuestWriterTarget } from './write-to-live-vm.js';

/** How long a put-back waits for other work on the VM (a CLI backup) before leaving it to the next start. */
const CLAIM_WAIT_MS = 60_000;
/** Journal entries are written in transactions of up to this many rows, and read back this many at a time. */
const ROWS_PER_BATCH = 512;
/** Rows in one INSERT statement (four values each: well under SQLite's bound on parameters). */
const ROWS_PER_INSERT = 128;

/** Which live volume a journal's descriptors belong to, and the session that changed them. */
export interface JournalScope {
  sessionId: string;
  vmId: string;
  vmName: string;
  diskName: string;
  partitionIndex?: number;
}

/**
 * A PermissionsOnly restore's journal (ntfs3g-descriptor-journal.ts DescriptorJournal) in the state store, one per restore
 * session: a row naming the live volume, then the descriptors in rows added in transactions of 512 (names and
 * descriptors base64), then the row marked complete — all before the first descriptor is set — and removed once
 * the run has ended with every descriptor set or put back. In the store, not in a node's data directory, so the node
 * that takes over a dead node's session (or the next to start) finds it (putBackPermissionJournal).
 */
export function permissionsJournal(ctx: AppContext, scope: JournalScope): DescriptorJournal {
  const db = ctx.store.db;
  let seq = 0;
  return {
    async begin() {
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom('permission_journal_entries').where('session_id', '=', scope.sessionId).execute();
        await tx.deleteFrom('permission_journals').where('session_id', '=', scope.sessionId).execute();
        await tx
          .insertInto('permission_journals')
          .values({ session_id: scope.sessionId, vm_id: scope.vmId, vm_name: scope.vmName, disk_name: scope.diskName, partition_index: scope.partitionIndex ?? null, complete: 0, entries: 0, created_at: ctx.clock.now() })
          .execute();
      });
      seq = 0;
    },
    async add(replaced) {
      const rows = replaced.map((r) => ({ session_id: scope.sessionId, seq: seq++, path: JSON.stringify(r.path.map((p) => p.toString('base64'))), old: r.old.toString('base64') }));
      await db.transaction().execute(async (tx) => {
        for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await tx.insertInto('permission_journal_entries').values(rows.slice(i, i + ROWS_PER_INSERT)).execute();
      });
    },
    async complete() {
      // Durable before the first descriptor is set: on SQLite this syncs the log, and with it every entry row before.
      await ctx.store.durably((d) => d.updateTable('permission_journals').set({ complete: 1, entries: seq }).where('session_id', '=', scope.sessionId).execute());
    },
    batches: () => journalBatches(ctx, scope.sessionId),
    clear: () => removeJournal(ctx, scope.sessionId),
  };
}

/**
 * A complete journal of `replaced`, written as a restore writes its own (complete, durably, last): a journal the
 * previous version left in a file (permissions-journal-files.ts), whose descriptors may have been set in part. A
 * start killed while writing it leaves it incomplete, and the file, which the next start takes in again.
 */
async function storeCompleteJournal(ctx: AppContext, scope: JournalScope, replaced: ReplacedDescriptor[]): Promise<void> {
  const journal = permissionsJournal(ctx, scope);
  await journal.begin();
  for (let i = 0; i < replaced.length; i += ROWS_PER_BATCH) await journal.add(replaced.slice(i, i + ROWS_PER_BATCH));
  await journal.complete();
}

async function removeJournal(ctx: AppContext, sessionId: string): Promise<void> {
  await ctx.store.db.transaction().execute(async (tx) => {
    await tx.deleteFrom('permission_journal_entries').where('session_id', '=', sessionId).execute();
    await tx.deleteFrom('permission_journals').where('session_id', '=', sessionId).execute();
  });
}

/** A journal's descriptors in the order they were recorded, 512 at a time (by `seq`, so memory stays at one batch). */
async function* journalBatches(ctx: AppContext, sessionId: string): AsyncIterable<ReplacedDescriptor[]> {
  let after = -1;
  for (;;) {
    const rows = await ctx.store.db
      .selectFrom('permission_journal_entries')
      .select(['seq', 'path', 'old'])
      .where('session_id', '=', sessionId)
      .where('seq', '>', after)
      .orderBy('seq')
      .limit(ROWS_PER_BATCH)
      .execute();
    if (rows.length === 0) return;
    after = Number(rows[rows.length - 1].seq);
    yield rows.map((r) => {
      const path = JSON.parse(r.path) as unknown;
      if (!Array.isArray(path) || path.length === 0 || !path.every((p) => typeof p === 'string')) throw new Error(`journal entry ${r.seq} of session ${sessionId} names no path`);
      return { path: path.map((p: string) => Buffer.from(p, 'base64')), old: Buffer.from(r.old, 'base64') };
    });
  }
}

type JournalRow = Awaited<ReturnType<typeof journalRows>>[number];

function journalRows(ctx: AppContext, sessionId?: string) {
  let q = ctx.store.db.selectFrom('permission_journals').selectAll();
  if (sessionId !== undefined) q = q.where('session_id', '=', sessionId);
  return q.execute();
}

/**
 * Puts back the descriptors of the journal of restore session `sessionId`, if it has one, and removes it; says in
 * the session (stopped by now) what happened. For a session whose node is gone: a server that was killed (at its
 * next start, putBackInterruptedPermissionRestores) or a node that stopped beating (taken over by a running node).
 * The VM's claim is held throughout, so a second node finding the same journal puts nothing back twice: it finds
 * the journal gone once it has the claim. A journal that was not complete had set nothing and just goes. One that
 * cannot be put back now (VM busy past 60 s, disk gone, ntfs-3g refusing) or read is kept for the next start, and
 * the session says so. `claim`: the VM's claim, when the caller already took it.
 */
export async function putBackPermissionJournal(ctx: AppContext, sessionId: string, when: string, claim?: VmClaim): Promise<void> {
  const [row] = await journalRows(ctx, sessionId);
  if (!row) {
    await claim?.release();
    return;
  }
  const say = async (text: string) => {
    const session = await ctx.restoreSessions.get(row.session_id);
    if (!session) return;
    if (session.state === 'Stopped') await ctx.restoreSessions.log(session.id, text);
    else await ctx.restoreSessions.finish(session.id, 'Failed', text, text);
  };
  let count: number;
  try {
    claim ??= await ctx.vmClaims.claim({ id: row.vm_id, name: row.vm_name }, 'guest-file-restore', `putting back the permissions of interrupted restore session ${row.session_id}`, { waitMs: CLAIM_WAIT_MS });
    try {
      // Another node may have put it back while this one waited for the claim.
      const [still] = await journalRows(ctx, sessionId);
      if (!still) return;
      count = still.complete ? await putBack(ctx, still) : 0;
      await removeJournal(ctx, sessionId);
    } finally {
      await claim.release();
    }
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    ctx.log.warn({ err: e, session: row.session_id }, 'could not put back the descriptors of an interrupted PermissionsOnly restore');
    await say(`${when}; putting back the ${row.entries} security descriptor(s) this PermissionsOnly restore was replacing failed (${reason}); it is tried again at the next start`);
    return;
  }
  if (!row.complete) {
    ctx.log.warn({ session: row.session_id, vm: row.vm_name }, 'an interrupted PermissionsOnly restore had set no descriptor yet');
    await say(`${when}; this PermissionsOnly restore had not set any security descriptor yet`);
    return;
  }
  ctx.log.warn({ session: row.session_id, vm: row.vm_name, descriptors: count }, 'put back the descriptors of an interrupted PermissionsOnly restore');
  await say(`${when}; the security descriptors of the ${row.entries} item(s) this PermissionsOnly restore was replacing were put back as they were before it (nothing else had been changed)`);
}

async function putBack(ctx: AppContext, row: JournalRow): Promise<number> {
  const target = await liveGuestTarget(ctx, row.vm_id, { diskName: row.disk_name, partitionIndex: row.partition_index ?? undefined, kind: 'ntfs' });
  try {
    return await putBackNtfsDescriptors(liveGuestWriterTarget(ctx, target), journalBatches(ctx, row.session_id));
  } finally {
    await target.disk.close();
  }
}

/** What a start says of a journal its predecessor (or a node that died) left. */
const AT_START = 'The openem server stopped during this PermissionsOnly restore; at the next server start';

/**
 * At server start, once it listens: every journal whose restore session is no longer running (a killed server's,
 * failed as interrupted by this start, or one an earlier put-back could not finish) is put back, in the background
 * (ctx.onShutdown waits for it). Where the VM's claim is free it is taken before this returns, so no request the
 * server answers can start other work on that VM first; a VM busy with other work (a CLI backup) is waited for in
 * the background, up to 60 s. Journals of sessions still open belong to a running node (or to the heartbeat
 * takeover, should it have died). The previous version's journal files are taken into the store first.
 */
export async function putBackInterruptedPermissionRestores(ctx: AppContext): Promise<void> {
  await importJournalFiles(ctx, (f) => storeCompleteJournal(ctx, f, f.replaced));
  for (const row of await journalRows(ctx)) {
    const session = await ctx.restoreSessions.get(row.session_id);
    if (session && session.state !== 'Stopped') continue;
    let claim: VmClaim | undefined;
    try {
      claim = await ctx.vmClaims.claim({ id: row.vm_id, name: row.vm_name }, 'guest-file-restore', `putting back the permissions of interrupted restore session ${row.session_id}`);
    } catch {
      // Busy: the background put-back waits for it.
    }
    const done = putBackPermissionJournal(ctx, row.session_id, AT_START, claim).catch((e) => ctx.log.error({ err: e, session: row.session_id }, 'putting back an interrupted PermissionsOnly restore failed'));
    ctx.onShutdown.push(() => done);
  }
}
