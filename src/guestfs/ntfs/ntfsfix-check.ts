import { OpenemError } from '../../errors.js';
import { runHelper } from '../../host/helper-process.js';
import { attachLoopDevice } from '../../host/loop-device.js';

/**
 * `ntfsfix --no-action` on the volume (through a read-only partition view): it mounts the volume with libntfs-3g and
 * checks $MFT against $MFTMirr, the boot sector and its backup, and the volume's flags, changing nothing. Throws
 * CORRUPT with ntfsfix's findings when it reports a problem.
 */
export async function checkNtfsClean(target: { imagePath: string; offset: number; size: number }): Promise<void> {
  const loop = await attachLoopDevice(target.imagePath, target.offset, target.size, { readOnly: true });
  try {
    const r = await runHelper('ntfsfix', ['--no-action', loop.path], { debianPackage: 'ntfs-3g', acceptExitCodes: 'any' });
    const out = (r.stdout + r.stderr).trim();
    if (r.code !== 0 || !/was processed successfully/.test(out)) {
      throw new OpenemError('CORRUPT', `ntfsfix --no-action found problems (exit ${r.code}): ${out.slice(-2000)}`);
    }
  } finally {
    await loop.release();
  }
}
