import type { DirHandle } from './dir-handle.js';
import { removeTree } from './write-item.js';

const RESTORE_PREFIX = '.openem-restore-';
const REPLACED_PREFIX = '.openem-replaced-';
const TEMPORARY = /^\.openem-(restore|replaced)-[0-9a-f]{16}$/;

/** A name for a write's temporary entry: the new item being built (`restore`), or the existing one during a swap. */
export function temporaryEntryName(kind: 'restore' | 'replaced', hex: string): Buffer {
  return Buffer.from(`${kind === 'restore' ? RESTORE_PREFIX : REPLACED_PREFIX}${hex}`);
}

/**
 * Removes what a write killed in this folder left (server SIGKILL: fuse2fs dies with the server and the write
 * stops where it was, leaving the half-built `.openem-restore-<hex>` item beside the untouched original).
 * A `.openem-replaced-<hex>` entry is the original of a swap killed between its two renames (a window of two
 * syscalls) or while its old tree was being removed; which name it had is not recorded, so it is left for an
 * administrator and only reported. Returns lines for the restore log.
 */
export async function removeInterruptedWrites(dir: DirHandle): Promise<string[]> {
  const lines: string[] = [];
  for (const name of await dir.names()) {
    const text = name.toString('latin1');
    if (!TEMPORARY.test(text)) continue;
    if (text.startsWith(RESTORE_PREFIX)) {
      await removeTree(dir, name);
      lines.push(`Removed ${dir.display === '/' ? '' : dir.display}/${text}, left by an interrupted restore`);
    } else {
      lines.push(`Left ${dir.display === '/' ? '' : dir.display}/${text} in place: the original of an interrupted folder swap; rename it back by hand if its item is missing`);
    }
  }
  return lines;
}
