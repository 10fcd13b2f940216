import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { OpenemError } from '../errors.js';

/** e2fsprogs live in sbin, which is often missing from a non-root PATH. */
async function findTool(name: string): Promise<string> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // not here; try the next directory
    }
  }
  throw new OpenemError('UNAVAILABLE', `${name} (e2fsprogs) is not installed`);
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs an e2fsprogs tool without a shell (arguments are never interpreted) and returns its output. */
export async function runE2fsTool(name: 'debugfs' | 'e2fsck', args: string[]): Promise<ToolResult> {
  const file = await findTool(name);
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new OpenemError('INTERNAL', `${name} could not run: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/**
 * libext2fs opens `file?offset=N` as the filesystem N bytes into the file (unix_io "offset"
 * option), so debugfs and e2fsck work on a partition inside a disk image without a loop device.
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
