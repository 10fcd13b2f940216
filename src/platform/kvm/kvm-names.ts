import { badRequest } from '../../errors.js';

/** A domain name libvirt and Enterprise Manager both take: printable, no slash, at most 128 characters. */
export function assertValidDomainName(name: string): void {
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || name.length > 128 || /[\u0000-\u001f\u007f/]/.test(name) || name.trim() !== name) {
    throw badRequest(`'${name}' is not a valid VM name`);
  }
}

/** Disk names become libvirt user aliases (`ua-<name>`), which allow letters, digits, `_` and `-`. */
export function assertValidDiskName(name: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw badRequest(`'${name}' is not a valid disk name (letters, digits, _ and -)`);
}
