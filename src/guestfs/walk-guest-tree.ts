import { badRequest, notFound } from '../errors.js';
import type { GuestEntry, GuestEntryId, GuestFilesystem } from './guest-filesystem.js';
import { normaliseGuestPath } from './guest-path.js';

/**
 * Every entry below `path` (depth first), the folder itself excluded; symlinks are yielded, never followed. A folder
 * met twice (no filesystem openem reads lets folders be hard-linked, so only a damaged one does) is not entered
 * again, so a loop in the tree cannot make the walk endless.
 */
export async function* walkGuestTree(fs: GuestFilesystem, path = '/'): AsyncGenerator<GuestEntry> {
  const root = await fs.stat(path);
  if (!root) throw notFound(`guest path ${normaliseGuestPath(path)} does not exist`);
  if (root.type !== 'dir') throw badRequest(`guest path ${root.path} is not a directory`);
  const seen = new Set<GuestEntryId>();
  async function* visit(dir: GuestEntry): AsyncGenerator<GuestEntry> {
    for (const entry of await fs.listEntry(dir)) {
      yield entry;
      if (entry.type === 'dir' && !seen.has(entry.id)) {
        seen.add(entry.id);
        yield* visit(entry);
      }
    }
  }
  yield* visit(root);
}
