import { badRequest } from '../errors.js';
import type { GuestEntryType } from './guest-filesystem.js';
import { guestPathComponents } from './guest-path.js';

/** Linux's limit on symlinks followed while resolving one path. */
export const MAX_SYMLINK_FOLLOWS = 40;

/**
 * What a filesystem backend gives the generic path lookup: its nodes (an ext4 inode, an NTFS file record), their
 * kinds, a folder's child by name and a link's target. How a name is matched (byte-exact for ext4, case-insensitive
 * for NTFS) is the backend's business; how a path walks through folders, links and `..` is not.
 */
export interface GuestTree<N> {
  root(): Promise<N>;
  kindOf(node: N): GuestEntryType;
  /** The entry of `dir` called `name`, with its stored name's bytes when they are not valid UTF-8; `undefined` if none. */
  child(dir: N, name: string): Promise<{ node: N; rawName?: Buffer } | undefined>;
  /** A symlink's target as stored, `/`-separated (an absolute target starts at this filesystem's root). */
  linkTarget(link: N): Promise<Buffer>;
}

export interface ResolvedGuestPath<N> {
  node: N;
  /** The last component's stored name, when it is not valid UTF-8. */
  rawName?: Buffer;
}

/**
 * Resolves a path inside one guest filesystem; `undefined` when something on the way does not exist (or is not a
 * folder). The path is normalised lexically first, so `..` never climbs above the root. The final component is never
 * followed (stat is lstat), but a symlink in the middle of a path is, resolved inside the guest: an absolute target
 * starts at the guest's root and `..` in a target stops there too, so no link leads outside the filesystem. More than
 * MAX_SYMLINK_FOLLOWS links in one lookup is a loop: BAD_REQUEST.
 */
export async function resolveGuestPath<N>(tree: GuestTree<N>, path: string): Promise<ResolvedGuestPath<N> | undefined> {
  const todo = guestPathComponents(path);
  const stack: ResolvedGuestPath<N>[] = [{ node: await tree.root() }];
  let follows = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === '.' || name === '') continue;
    if (name === '..') {
      if (stack.length > 1) stack.pop();
      continue;
    }
    const dir = stack[stack.length - 1].node;
    if (tree.kindOf(dir) !== 'dir') return undefined;
    const found = await tree.child(dir, name);
    if (!found) return undefined;
    if (tree.kindOf(found.node) === 'symlink' && todo.length > 0) {
      if (++follows > MAX_SYMLINK_FOLLOWS) throw badRequest(`too many levels of symbolic links in ${path}`);
      const target = (await tree.linkTarget(found.node)).toString('utf8');
      if (target.startsWith('/')) stack.splice(1);
      todo.unshift(...target.split('/'));
      continue;
    }
    stack.push(found.rawName ? { node: found.node, rawName: found.rawName } : { node: found.node });
  }
  return stack[stack.length - 1];
}
