import { badRequest } from '../errors.js';

/**
 * Builds debugfs batch commands (`debugfs -f file`). debugfs splits lines with the ss library:
 * a "..." argument may hold spaces, and `""` inside it is a literal quote. A newline cannot be
 * expressed at all, so names holding one (or NUL) are refused rather than risk running a second
 * command. Paths are always absolute, so none is read as an option or as debugfs's `<ino>` syntax.
 */
export function quoteDebugfsArg(arg: string): string {
  if (/[\n\r\0]/.test(arg)) throw badRequest(`name cannot be written by debugfs (newline or NUL): ${JSON.stringify(arg)}`);
  return `"${arg.replace(/"/g, '""')}"`;
}

export function debugfsCommand(name: string, ...args: string[]): string {
  return [name, ...args.map(quoteDebugfsArg)].join(' ');
}

/** `sif` lines setting mode, owner and mtime (with nanoseconds and the post-2038 epoch bits). */
export function setAttributesCommands(
  path: string, attrs: { mode?: number; uid: number; gid: number; mtime: Date },
): string[] {
  const out: string[] = [];
  if (attrs.mode !== undefined) out.push(debugfsCommand('sif', path, 'mode', `0${attrs.mode.toString(8)}`));
  out.push(debugfsCommand('sif', path, 'uid', String(attrs.uid)));
  out.push(debugfsCommand('sif', path, 'gid', String(attrs.gid)));
  const ms = attrs.mtime.getTime();
  if (!Number.isFinite(ms)) throw badRequest(`invalid mtime for ${path}`);
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const low = seconds % 2 ** 32;
  // i_mtime is the low 32 bits as signed; i_mtime_extra holds the epoch bits and the nanoseconds.
  const signedLow = low >= 2 ** 31 ? low - 2 ** 32 : low;
  const epoch = (seconds - signedLow) / 2 ** 32;
  const nanos = (ms - seconds * 1000) * 1e6;
  // debugfs 1.47 takes `@seconds` past 2038 and sets the epoch bits; mtime_extra then adds nanoseconds.
  out.push(debugfsCommand('sif', path, 'mtime', `@${seconds}`));
  out.push(debugfsCommand('sif', path, 'mtime_extra', String(((nanos << 2) | (epoch & 3)) >>> 0)));
  return out;
}
