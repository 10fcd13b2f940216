import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { OpenemError } from '../../errors.js';
import { runHelper } from '../../host/helper-process.js';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs an e2fsprogs tool without a shell (arguments are never interpreted), bound to this process's life. */
export async function runE2fsTool(name: 'e2fsck', args: string[]): Promise<ToolResult> {
  const r = await runHelper(name, args, { debianPackage: 'e2fsprogs', acceptExitCodes: 'any' });
  return { code: r.code as number, stdout: r.stdout, stderr: r.stderr };
}

/**
 * libext2fs opens `file?offset=N` as the filesystem N bytes into the file (unix_io "offset"
 * option), so e2fsck works on a partition inside a disk image without a loop device.
 */
export function imageWithOffset(imagePath: string, offset: number): string {
  if (imagePath.includes('?')) throw new OpenemError('BAD_REQUEST', `image path may not contain "?": ${imagePath}`);
  if (!Number.isSafeInteger(offset) || offset < 0) throw new OpenemError('BAD_REQUEST', `invalid filesystem offset ${offset}`);
  return offset === 0 ? imagePath : `${imagePath}?offset=${offset}`;
}

/** `e2fsck -fn`: a forced, read-only check. Throws CORRUPT with e2fsck's findings when unclean. */
export async function checkFilesystemClean(imagePath: string, offset: number): Promise<void> {
  const r = await runE2fsTool('e2fsck', ['-fn', imageWithOffset(imagePath, offset)]);
  if (r.code !== 0) {
    throw new OpenemError('CORRUPT', `e2fsck found problems (exit ${r.code}): ${(r.stdout + r.stderr).trim().slice(-2000)}`);
  }
}

/**
 * Throws unless `checkImageFilesystemClean` can name a filesystem at `offset` through a link under `workRoot`:
 * called before a write, so a path libext2fs cannot be given is refused before the guest is changed.
 */
export function assertImageCheckable(workRoot: string, offset: number): void {
  imageWithOffset(join(workRoot, 'e2fsck-XXXXXX', 'image'), offset);
}

/**
 * `checkFilesystemClean` on an image whose path holds a VM's name (which may contain `?`): e2fsck is given a
 * link with a fixed name in a fresh private folder under `workRoot`, removed afterwards.
 */
export async function checkImageFilesystemClean(workRoot: string, imagePath: string, offset: number): Promise<void> {
  assertImageCheckable(workRoot, offset);
  await mkdir(workRoot, { recursive: true, mode: 0o700 });
  const folder = await mkdtemp(join(workRoot, 'e2fsck-'));
  try {
    const link = join(folder, 'image');
    await symlink(imagePath, link);
    await checkFilesystemClean(link, offset);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}
