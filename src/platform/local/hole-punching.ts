import { resolve } from 'node:path';
import type { Extent } from '../../disks/block-source.js';
import { setprivPath, spawnHelper, type HelperProcess } from '../../host/helper-process.js';
import { OpenemError, isOpenemError } from '../../errors.js';

/**
 * Node has no fallocate(2), so holes are punched with util-linux `fallocate --punch-hole --keep-size`, which takes
 * one range per run. A batch of ranges costs one process spawn from here, not one per block: findutils `xargs -0 -n 2`
 * reads the ranges (`--offset=N`, `--length=N`, NUL-separated, numbers made here) from its stdin and runs one
 * fallocate per pair, with argv only — no shell, no script, nothing parsed as a command. xargs is started through
 * the helper's death binding (helper-process.ts), and each fallocate it runs through `setpriv --pdeathsig KILL`,
 * so when the server dies, xargs dies and with it the fallocate it was running: nothing goes on changing the image.
 * fallocate reads its options after the file name (GNU getopt permutes; POSIXLY_CORRECT, which stops that, is
 * removed), and the file is an absolute path, so it cannot be taken for an option.
 *
 * The ranges are handed over one at a time: xargs runs a pair as soon as it has read it, and the next range is
 * written only once fallocate has said (`--verbose`, on stdout) that this one is punched. So the first failure
 * is the last range run: xargs would go on with the ranges it already holds (it stops early only for a command
 * that exits 255, which fallocate never does), and a filesystem that refuses one punch gets no more of them.
 */
export async function punchHoles(fallocatePath: string, file: string, ranges: Extent[]): Promise<void> {
  if (ranges.length === 0) return;
  const target = resolve(file);
  const args = ['-0', '-n', '2', '--', await setprivPath(), '--pdeathsig', 'KILL', '--', fallocatePath, '--punch-hole', '--keep-size', '--verbose', target];
  const { POSIXLY_CORRECT: _posix, ...env } = process.env;
  // C locale: the caller tells "the filesystem cannot punch holes" from other failures by fallocate's words.
  let xargs: HelperProcess;
  try {
    xargs = await spawnHelper('xargs', args, { env: { ...env, LC_ALL: 'C' }, debianPackage: 'findutils', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    // A tool that cannot start is UNAVAILABLE (the helper's code is kept).
    throw new OpenemError(isOpenemError(e) ? e.code : 'UNAVAILABLE', `punching holes in ${file} failed: ${(e as Error).message}`, { cause: e });
  }
  const punched = new PunchReports(xargs, target);
  let done = 0;
  try {
    for (const r of ranges) {
      xargs.child.stdin!.write(`--offset=${r.offset}\0--length=${r.length}\0`);
      if (!(await punched.reached(++done))) break;
    }
  } finally {
    xargs.child.stdin!.end();
  }
  const { code, signal } = await xargs.exited;
  if (code !== 0 || punched.count < ranges.length) {
    const how = code === null ? `was killed by ${signal}` : `exited with ${code}`;
    throw new OpenemError('INTERNAL', `punching holes in ${file} failed after ${punched.count} of ${ranges.length} ranges: xargs ${how}: ${punched.errors().trim().slice(-2000)}`);
  }
}

/**
 * fallocate's reports through xargs: one line on stdout per range punched (`<file>: … hole created.`, as many
 * newlines as the file name has, plus one), anything on stderr or the end of xargs meaning it stopped.
 */
class PunchReports {
  private newlines = 0;
  private readonly perRange: number;
  private readonly stderr: Buffer[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(xargs: HelperProcess, target: string) {
    this.perRange = target.split('\n').length;
    const notify = () => {
      const w = this.wake;
      this.wake = undefined;
      w?.();
    };
    xargs.child.stdout!.on('data', (d: Buffer) => {
      for (const byte of d) if (byte === 0x0a) this.newlines++;
      notify();
    });
    xargs.child.stderr!.on('data', (d: Buffer) => {
      this.stderr.push(d);
      notify();
    });
    void xargs.exited.then(() => {
      this.ended = true;
      notify();
    });
    // A write after xargs is gone fails with EPIPE; its exit is what tells the caller.
    xargs.child.stdin!.on('error', () => undefined);
  }

  get count(): number {
    return Math.floor(this.newlines / this.perRange);
  }

  errors(): string {
    return Buffer.concat(this.stderr).toString('utf8');
  }

  /** Resolves true once `n` ranges are reported punched, false as soon as something failed instead. */
  async reached(n: number): Promise<boolean> {
    for (;;) {
      if (this.count >= n) return true;
      if (this.stderr.length > 0 || this.ended) return false;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
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
