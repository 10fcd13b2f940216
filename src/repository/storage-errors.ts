import { isOpenemError, OpenemError } from '../errors.js';

/** Turns a full disk into NO_SPACE (other errors pass through unchanged). */
export function asStorageError(e: unknown, location: string): unknown {
  if (isOpenemError(e)) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new OpenemError('NO_SPACE', `repository ${location} is out of space; the backup was not saved (free space, then run gc)`, { cause: e });
  }
  return e;
}
