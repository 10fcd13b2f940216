import type { Extent } from '../../disks/block-source.js';
import { runHelper, setprivPath } from '../../host/helper-process.js';
import { OpenemError, isOpenemError } from '../../errors.js';

/**
 * Node has no fallocate(2), so holes are punched with util-linux `fallocate --punch-hole --keep-size`.
 * One `sh` runs a whole batch of ranges, so a restore that zeroes many blocks pays one process spawn
 * per batch rather than per block. The script is fixed text; the file and the numbers are its positional
 * parameters, never parsed as commands. Each fallocate is itself started through setpriv with a parent-death
 * signal (setpriv's path is a parameter too), so when the server dies, the sh dies and with it
 * the fallocate it was running: nothing goes on changing the image.
 */
const PUNCH_SCRIPT =
  's=$1; fa=$2; f=$3; shift 3; while [ $# -gt 1 ]; do "$s" --pdeathsig KILL -- "$fa" --punch-hole --keep-size -o "$1" -l "$2" "$f" || exit 1; shift 2; done';

/** Punches every range as a hole; rejects if a punch fails (e.g. the filesystem cannot). */
export async function punchHoles(fallocatePath: string, file: string, ranges: Extent[]): Promise<void> {
  if (ranges.length === 0) return;
  const args = ['-c', PUNCH_SCRIPT, 'sh', await setprivPath(), fallocatePath, file];
  for (const r of ranges) args.push(String(r.offset), String(r.length));
  try {
    // C locale: the caller tells "the filesystem cannot punch holes" from other failures by fallocate's words.
    await runHelper('/bin/sh', args, { env: { ...process.env, LC_ALL: 'C' } });
  } catch (e) {
    // Keep the helper's code: a tool that cannot start is UNAVAILABLE, a punch the filesystem refuses INTERNAL.
    throw new OpenemError(isOpenemError(e) ? e.code : 'INTERNAL', `punching holes in ${file} failed: ${(e as Error).message}`, { cause: e });
  }
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
