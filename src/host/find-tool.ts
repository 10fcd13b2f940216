import { access, constants } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { OpenemError } from '../errors.js';

/** e2fsprogs and util-linux live in sbin folders that are not on every user's PATH. */
const EXTRA_TOOL_DIRS = ['/usr/sbin', '/sbin', '/usr/local/sbin'];

/** The absolute path of an executable (a name looked up on PATH and in sbin, or an absolute path), or undefined. */
export async function findTool(name: string): Promise<string | undefined> {
  const candidates = isAbsolute(name)
    ? [name]
    : [...(process.env.PATH ?? '').split(':').filter(Boolean), ...EXTRA_TOOL_DIRS].map((dir) => join(dir, name));
  for (const candidate of candidates) {
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
