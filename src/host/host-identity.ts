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

/**
 * What names this machine and pid namespace across reboots (hostname, machine id, pid namespace; not the boot):
 * 12 hex digits. With `thisBootTag` beside it, a name can say "made on this machine, in an earlier boot", which
 * no process can still own, whatever pid it names. The initial pid namespace keeps its number across boots; a
 * container's gets a new one when it starts again, so its names from before count as another machine's.
 */
export function thisMachineTag(): string {
  const machineId = readOr(() => readFileSync('/etc/machine-id', 'utf8').trim());
  const identity = [hostname(), machineId, readOr(() => readlinkSync('/proc/self/ns/pid'))].join('#');
  return createHash('sha256').update(identity).digest('hex').slice(0, 12);
}

/** This boot of the kernel (`/proc/sys/kernel/random/boot_id`): 12 hex digits of its SHA-256. */
export function thisBootTag(): string {
  return createHash('sha256').update(readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim())).digest('hex').slice(0, 12);
}
