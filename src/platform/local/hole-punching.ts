import { execFile } from 'node:child_process';
import type { Extent } from '../../disks/block-source.js';

/**
 * Node has no fallocate(2), so holes are punched with util-linux `fallocate --punch-hole --keep-size`.
 * One `sh` runs a whole batch of ranges, so a restore that zeroes many blocks pays one process spawn
 * per batch rather than per block.
 */
const PUNCH_SCRIPT =
  'f=$1; shift; while [ $# -gt 1 ]; do fallocate --punch-hole --keep-size -o "$1" -l "$2" "$f" || exit 1; shift 2; done';

/** Punches every range as a hole; rejects if a punch fails (e.g. the filesystem cannot). */
export function punchHoles(fallocatePath: string, file: string, ranges: Extent[]): Promise<void> {
  if (ranges.length === 0) return Promise.resolve();
  const args = ['-c', PUNCH_SCRIPT, 'sh', file];
  for (const r of ranges) args.push(String(r.offset), String(r.length));
  // fallocate is run by name inside sh; put its folder first on PATH so the found binary is the one used.
  const dir = fallocatePath.slice(0, fallocatePath.lastIndexOf('/'));
  const env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` };
  return new Promise((resolve, reject) => {
    execFile('/bin/sh', args, { env }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`punching holes in ${file} failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** Sorts ranges and merges those that touch or overlap, so adjacent zero blocks become one punch. */
export function coalesceRanges(ranges: Extent[]): Extent[] {
  const sorted = [...ranges].sort((a, b) => a.offset - b.offset);
  const out: Extent[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.offset <= last.offset + last.length) {
      last.length = Math.max(last.length, r.offset + r.length - last.offset);
    } else {
      out.push({ ...r });
    }
  }
  return out;
}
