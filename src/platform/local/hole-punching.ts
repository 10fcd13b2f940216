import { resolve } from 'node:path';
import type { Extent } from '../../disks/block-source.js';
import { runHelper, setprivPath } from '../../host/helper-process.js';
import { OpenemError, isOpenemError } from '../../errors.js';

/**
 * Node has no fallocate(2), so holes are punched with util-linux `fallocate --punch-hole --keep-size`, which takes
 * one range per run. A batch of ranges costs one process spawn from here, not one per block: findutils `xargs -0`
 * reads the ranges (`--offset=N`, `--length=N`, NUL-separated, numbers made here) from its stdin and runs one
 * fallocate per pair, with argv only — no shell, no script, nothing parsed as a command. xargs is started through
 * the helper's death binding (helper-process.ts), and each fallocate it runs through `setpriv --pdeathsig KILL`,
 * so when the server dies, xargs dies and with it the fallocate it was running: nothing goes on changing the image.
 * fallocate reads its options after the file name (GNU getopt permutes; POSIXLY_CORRECT, which stops that, is
 * removed), and the file is an absolute path, so it cannot be taken for an option.
 */
export async function punchHoles(fallocatePath: string, file: string, ranges: Extent[]): Promise<void> {
  if (ranges.length === 0) return;
  const input = Buffer.from(ranges.map((r) => `--offset=${r.offset}\0--length=${r.length}\0`).join(''));
  const args = ['-0', '-n', '2', '--', await setprivPath(), '--pdeathsig', 'KILL', '--', fallocatePath, '--punch-hole', '--keep-size', resolve(file)];
  const { POSIXLY_CORRECT: _posix, ...env } = process.env;
  try {
    // C locale: the caller tells "the filesystem cannot punch holes" from other failures by fallocate's words.
    await runHelper('xargs', args, { input, env: { ...env, LC_ALL: 'C' }, debianPackage: 'findutils' });
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
