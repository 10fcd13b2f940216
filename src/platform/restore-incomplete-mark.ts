import { conflict } from '../errors.js';
import type { PlatformOperations, RestoreIncompleteMark, VmConfig } from './platform.js';

/** What the mark means for the VM, in one sentence a user can act on (power-on refusals, `vm show`). */
export function describeRestoreMark(vmName: string, mark: RestoreIncompleteMark): string {
  const what = `restore session ${mark.sessionId} (restore point ${mark.vmRestorePointId} of ${mark.restorePointTime})`;
  if (mark.state === 'writing') {
    return `VM ${vmName} is marked restore incomplete: ${what} began writing its disks at ${mark.since} and has not completed; the openem server resumes it when it starts`;
  }
  if (mark.state === 'failed') {
    return `VM ${vmName} is marked restore incomplete: ${what} failed after writing began (${mark.reason ?? 'no reason recorded'}); disk content undefined — restore the VM again, or give up with 'openem vm restore-abandon ${vmName}'`;
  }
  return `VM ${vmName} is marked restore incomplete: ${what} was abandoned (${mark.reason ?? 'by operator'}); disk content undefined — restore the VM again, or power it on anyway with 'openem vm power-on ${vmName} --force'`;
}

/**
 * Refuses to power on a VM whose disks a restore left half-written (issue #9 §6). Only an abandoned restore
 * can be overridden, and only on purpose (`force`): a restore that runs or will resume must not race a guest.
 */
export function assertPowerOnAllowed(vm: VmConfig, force: boolean): void {
  const mark = vm.restoreIncomplete;
  if (!mark) return;
  if (force && mark.state === 'abandoned') return;
  const hint = force ? ' (--force powers on only a VM whose restore was abandoned)' : '';
  throw conflict(`cannot power on: ${describeRestoreMark(vm.name, mark)}${hint}`);
}

/** The restore sessions that VMs' marks name: at start they are resumed or ended by the restore service, not failed blindly. */
export async function sessionsNamedByRestoreMarks(platform: Pick<PlatformOperations, 'listVms'>): Promise<string[]> {
  return (await platform.listVms()).flatMap((vm) => (vm.restoreIncomplete ? [vm.restoreIncomplete.sessionId] : []));
}
