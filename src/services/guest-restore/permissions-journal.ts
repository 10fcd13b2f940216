import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../app-services.js';
import { ensurePrivateDir } from '../../host/private-data-dir.js';
import { syncDirectory } from '../../host/sync-directory.js';
import { putBackNtfsDescriptors, type DescriptorJournal, type ReplacedDescriptor } from '../../guestfs/ntfs/ntfs3g-permissions.js';
import { writeFileAtomic } from '../../platform/local/atomic-file.js';
import { liveGuestTarget, liveGuestWriterTarget } from './write-to-live-vm.js';

/** Where the journals live: in the data directory, never on the guest volume they describe. */
const JOURNAL_DIR = 'permissions-journal';
const JOURNAL_NAME = /^[0-9a-f-]{36}\.json$/;
/** A journal's temporary file (atomic-file.ts), left by a server killed while writing it: nothing was set yet. */
const UNFINISHED_JOURNAL = /^\.[0-9a-f-]{36}\.json\.tmp-/;
/** How long a start waits for other work on the VM (a CLI backup) before leaving the put-back to the next start. */
const CLAIM_WAIT_MS = 60_000;

/** Which live volume a journal's descriptors belong to, and the session that changed them. */
export interface JournalScope {
  sessionId: string;
  vmId: string;
  vmName: string;
  diskName: string;
  partitionIndex?: number;
}

interface JournalFile extends JournalScope {
  replaced: { path: string[]; old: string }[];
}

function journalPath(ctx: AppContext, sessionId: string): string {
  return join(ctx.config.dataDir, JOURNAL_DIR, `${sessionId}.json`);
}

/**
 * A PermissionsOnly restore's journal (ntfs3g-permissions.ts DescriptorJournal) as one file per restore session in
 * `<data>/permissions-journal/`: written and fsynced (temp file, rename, folder fsync) before the first descriptor is
 * set, removed once the run has ended with every descriptor set or put back. Names and descriptors are base64.
 */
export function permissionsJournal(ctx: AppContext, scope: JournalScope): DescriptorJournal {
  const path = journalPath(ctx, scope.sessionId);
  return {
    async record(replaced) {
      await ensurePrivateDir(join(ctx.config.dataDir, JOURNAL_DIR));
      const file: JournalFile = { ...scope, replaced: replaced.map((r) => ({ path: r.path.map((p) => p.toString('base64')), old: r.old.toString('base64') })) };
      await writeFileAtomic(path, JSON.stringify(file));
    },
    async clear() {
      try {
        await unlink(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      await syncDirectory(join(ctx.config.dataDir, JOURNAL_DIR));
    },
  };
}

/**
 * At server start: every journal left behind is a PermissionsOnly restore the previous server was killed in the
 * middle of (its session was failed as interrupted). Its recorded descriptors are put back on the live volume, so
 * the VM is as it was before that restore, and the session says so; the journal is then removed. One that cannot be
 * put back now (VM busy, disk gone, ntfs-3g refusing) is kept for the next start, and the session says that.
 */
export async function putBackInterruptedPermissionRestores(ctx: AppContext): Promise<void> {
  const dir = join(ctx.config.dataDir, JOURNAL_DIR);
  let all: string[];
  try {
    all = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const name of all.filter((n) => UNFINISHED_JOURNAL.test(n))) await unlink(join(dir, name));
  const names = all.filter((n) => JOURNAL_NAME.test(n));
  for (const name of names) {
    let file: JournalFile;
    let replaced: ReplacedDescriptor[];
    try {
      file = JSON.parse(await readFile(join(dir, name), 'utf8')) as JournalFile;
      replaced = file.replaced.map((r) => ({ path: r.path.map((p) => Buffer.from(p, 'base64')), old: Buffer.from(r.old, 'base64') }));
    } catch (e) {
      // One journal that cannot be read keeps neither the server from starting nor the others from being put back.
      ctx.log.error({ err: e, journal: join(dir, name) }, 'an interrupted PermissionsOnly restore left a journal that cannot be read; it is kept');
      continue;
    }
    const session = await ctx.restoreSessions.get(file.sessionId);
    const say = async (text: string) => {
      if (!session) return;
      if (session.state === 'Stopped') await ctx.restoreSessions.log(session.id, text);
      else await ctx.restoreSessions.finish(session.id, 'Failed', text, text);
    };
    try {
      const claim = await ctx.vmClaims.claim({ id: file.vmId, name: file.vmName }, 'guest-file-restore', `putting back the permissions of interrupted restore session ${file.sessionId}`, { waitMs: CLAIM_WAIT_MS });
      try {
        const target = await liveGuestTarget(ctx, file.vmId, { diskName: file.diskName, partitionIndex: file.partitionIndex, kind: 'ntfs' });
        try {
          await putBackNtfsDescriptors(liveGuestWriterTarget(ctx, target), replaced);
        } finally {
          await target.disk.close();
        }
      } finally {
        await claim.release();
      }
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      ctx.log.warn({ err: e, session: file.sessionId }, 'could not put back the descriptors of an interrupted PermissionsOnly restore');
      await say(`The openem server stopped during this PermissionsOnly restore; putting back the ${replaced.length} security descriptor(s) it was replacing failed at server start (${reason}); it is tried again at the next start`);
      continue;
    }
    await permissionsJournal(ctx, file).clear();
    ctx.log.warn({ session: file.sessionId, vm: file.vmName, descriptors: replaced.length }, 'put back the descriptors of an interrupted PermissionsOnly restore');
    await say(`The openem server stopped during this PermissionsOnly restore; at server start the security descriptors of the ${replaced.length} item(s) it was replacing were put back as they were before it (nothing else had been changed)`);
  }
}
