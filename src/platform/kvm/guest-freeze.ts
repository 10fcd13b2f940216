import type { SnapshotConsistency } from '../../disks/block-source.js';
import { OpenemError } from '../../errors.js';
import { guestAgentChannel } from './domain-xml.js';
import type { Libvirt } from './libvirt.js';

/** How long the guest agent may take to freeze or thaw the guest's filesystems. */
const AGENT_TIMEOUT_MS = 60_000;

export interface GuestFreeze {
  consistency: SnapshotConsistency;
  /** Thaws what was frozen (nothing when the guest was not frozen). */
  thaw(): Promise<void>;
}

/**
 * Freezes the running domain's guest filesystems through its QEMU guest agent (libvirt's domfsfreeze), for the
 * instant a live backup's point-in-time view is taken; a guest without an agent channel, or whose agent is not
 * connected or does not freeze, is read crash-consistent, and the answer says why. `domainXml`: the domain's live
 * XML when the caller has just read it.
 */
export async function freezeGuest(libvirt: Libvirt, uuid: string, domainXml?: string): Promise<GuestFreeze> {
  const unfrozen = (reason: string, freezeFailed = false): GuestFreeze => ({
    consistency: { kind: 'crash-consistent', reason, ...(freezeFailed ? { freezeFailed } : {}) },
    thaw: async () => undefined,
  });
  const channel = guestAgentChannel(domainXml ?? (await libvirt.domainXml(uuid)));
  if (!channel) return unfrozen('the VM has no QEMU guest agent channel');
  if (channel.state !== undefined && channel.state !== 'connected') return unfrozen(`the QEMU guest agent is not connected (channel ${channel.state}): it does not run in the guest`);
  try {
    await libvirt.freezeFilesystems(uuid, true, AGENT_TIMEOUT_MS);
  } catch (e) {
    // A freeze that timed out may still have frozen the guest: thaw, which is harmless when nothing is frozen.
    await libvirt.freezeFilesystems(uuid, false, AGENT_TIMEOUT_MS).catch(() => undefined);
    return unfrozen(`the QEMU guest agent did not freeze the guest's filesystems: ${e instanceof Error ? lastLine(e.message) : String(e)}`, true);
  }
  return {
    consistency: { kind: 'frozen' },
    thaw: async () => {
      try {
        // Once more on a failure: a guest left frozen stops writing.
        await libvirt.freezeFilesystems(uuid, false, AGENT_TIMEOUT_MS).catch(() => libvirt.freezeFilesystems(uuid, false, AGENT_TIMEOUT_MS));
      } catch (e) {
        throw new OpenemError('UNAVAILABLE', `the guest's filesystems could not be thawed after the backup started; thaw them with 'virsh domfsthaw': ${e instanceof Error ? lastLine(e.message) : String(e)}`, { cause: e });
      }
    },
  };
}

function lastLine(message: string): string {
  return message.trim().split('\n').filter(Boolean).pop() ?? message;
}
