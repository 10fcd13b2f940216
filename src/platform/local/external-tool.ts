import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { OpenemError } from '../../errors.js';

/** e2fsprogs and util-linux live in sbin folders that are not on every user's PATH. */
const EXTRA_TOOL_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** The absolute path of an executable, or undefined if it is not installed. */
export async function findTool(name: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...EXTRA_TOOL_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder; try the next one
    }
  }
  return undefined;
}

/** Like findTool, but fails with a message that names the Debian package to install. */
export async function requireTool(name: string, debianPackage: string): Promise<string> {
  const path = await findTool(name);
  if (!path) {
    throw new OpenemError(
      'UNAVAILABLE',
      `'${name}' was not found on this machine; install the Debian package '${debianPackage}' (apt-get install ${debianPackage})`,
    );
  }
  return path;
}

/** Runs a tool to completion; a non-zero exit becomes an error carrying its stderr. */
export function runTool(path: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(path, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        reject(
          new OpenemError('INTERNAL', `${path} ${args.join(' ')} failed: ${stderr.trim() || err.message}`, {
            cause: err,
          }),
        );
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}
