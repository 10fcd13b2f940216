import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppContext } from '../app-services.js';
import type { ReplacedDescriptor } from '../../guestfs/ntfs/ntfs3g-descriptor-journal.js';
import { syncDirectory } from '../../host/sync-directory.js';

/** Where the previous version (before a68190b) kept its journals: one file per restore session in the data directory. */
const JOURNAL_DIR = 'permissions-journal';
const JOURNAL_NAME = /^[0-9a-f-]{36}\.json$/;
/** A journal's temporary file, left by a server killed while writing it: nothing was set yet. */
const UNFINISHED_JOURNAL = /^\.[0-9a-f-]{36}\.json\.tmp-/;

/** A journal file's live volume (the store's JournalScope) and its descriptors. */
export interface JournalFile {
  sessionId: string;
  vmId: string;
  vmName: string;
  diskName: string;
  partitionIndex?: number;
  replaced: ReplacedDescriptor[];
}

/**
 * At start, after an upgrade: the journal files of PermissionsOnly restores the previous version was killed in the
 * middle of go into the state store as complete journals (`store`: complete, durably, last), where the put-back finds them; each file
 * is removed once its journal is committed (and the folder synced). A file that cannot be read is logged and kept,
 * as the previous version did; a temporary one (killed while writing it, nothing set) is removed.
 */
export async function importJournalFiles(ctx: AppContext, store: (journal: JournalFile) => Promise<void>): Promise<void> {
  const dir = join(ctx.config.dataDir, JOURNAL_DIR);
  let all: string[];
  try {
    all = await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  let removed = 0;
  for (const name of all.filter((n) => UNFINISHED_JOURNAL.test(n))) {
    await unlink(join(dir, name));
    removed++;
  }
  for (const name of all.filter((n) => JOURNAL_NAME.test(n))) {
    const path = join(dir, name);
    let journal: JournalFile;
    try {
      journal = parseJournalFile(await readFile(path, 'utf8'));
    } catch (e) {
      ctx.log.error({ err: e, journal: path }, 'an interrupted PermissionsOnly restore left a journal that cannot be read; it is kept');
      continue;
    }
    await store(journal);
    await unlink(path);
    removed++;
    ctx.log.warn({ session: journal.sessionId, vm: journal.vmName, descriptors: journal.replaced.length }, 'took the journal file of an interrupted PermissionsOnly restore into the state store');
  }
  if (removed > 0) await syncDirectory(dir);
}

/** The previous version's format: the scope's fields and `replaced`, each `{ path: base64[], old: base64 }`. */
function parseJournalFile(text: string): JournalFile {
  const f = JSON.parse(text) as Record<string, unknown>;
  const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
  if (typeof f !== 'object' || f === null || !isString(f.sessionId) || !isString(f.vmId) || !isString(f.vmName) || !isString(f.diskName)) throw new Error('the journal names no session, VM or disk');
  if (f.partitionIndex !== undefined && !Number.isInteger(f.partitionIndex)) throw new Error('the journal has a partition index that is no number');
  if (!Array.isArray(f.replaced)) throw new Error('the journal has no descriptors');
  const replaced = (f.replaced as unknown[]).map((r, i) => {
    const { path, old } = (r ?? {}) as { path?: unknown; old?: unknown };
    if (!Array.isArray(path) || path.length === 0 || !path.every(isString) || typeof old !== 'string') throw new Error(`journal entry ${i} names no path or descriptor`);
    return { path: path.map((p) => Buffer.from(p, 'base64')), old: Buffer.from(old, 'base64') };
  });
  return { sessionId: f.sessionId, vmId: f.vmId, vmName: f.vmName, diskName: f.diskName, partitionIndex: f.partitionIndex as number | undefined, replaced };
}
