import { badRequest } from '../../errors.js';
import { assertValidVmName } from '../vm-name-rules.js';

/**
 * A domain name openem creates: what libvirt and Enterprise Manager both take (printable, no slash, at most 128
 * characters), and what the local platform takes (no `\`, no `..`, no leading dot: the name is a folder name too,
 * for FLR mounts), and no leading `-` (it would read as an option to a command it is passed to).
 */
export function assertValidDomainName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || name.length > 128 || /[\u0000-\u001f\u007f/]/.test(name) || name.trim() !== name) {
    throw badRequest(`'${name}' is not a valid VM name`);
  }
  assertValidVmName(name);
  if (name.startsWith('-')) throw badRequest(`VM name must not start with '-': ${JSON.stringify(name)}`);
}

/** Disk names become libvirt user aliases (`ua-<name>`), which allow letters, digits, `_` and `-`. */
export function assertValidDiskName(name: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw badRequest(`'${name}' is not a valid disk name (letters, digits, _ and -)`);
}
