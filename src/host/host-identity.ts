import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Names the kernel and pid namespace this process runs in: hostname, boot id and pid namespace, separated by `#`.
 * Cloned VMs and containers share a hostname, so a hostname alone cannot tell whether a lease's pid is one
 * this process can probe; two processes see each other's pids only with the same boot id and pid namespace.
 */
export function thisHostIdentity(): string {
  return [hostname(), readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()), readOr(() => readlinkSync('/proc/self/ns/pid'))].join('#');
}

function readOr(read: () => string): string {
  try {
    return read();
  } catch {
    return 'unknown'; // not Linux: the hostname alone names the host, as before
  }
}

/** A short, file-name-safe tag of `thisHostIdentity()` (12 hex digits of its SHA-256). */
export function thisHostTag(): string {
  return createHash('sha256').update(thisHostIdentity()).digest('hex').slice(0, 12);
}
