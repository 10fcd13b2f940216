import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { thisHostTag } from '../../host/host-identity.js';
import { isProcessAlive } from '../../host/process-alive.js';
import type { Virsh } from './virsh.js';

/**
 * The tag earlier versions named this host by (8 hex digits of its hostname's SHA-256): volumes so named were
 * staged here, so they are judged as this host's.
 */
function hostnameTag(): string {
  return createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
}

/** Whether a staged volume's host tag names this host: its pid means something only on the host it runs on. */
function isThisHost(tag: string): boolean {
  return tag === thisHostTag() || tag === hostnameTag();
}

/**
 * The pool volume of disk `diskName` of a VM openem is building: `<vm uuid>-<disk>.<host tag>-<pid>.qcow2`, the
 * host tag the local platform's staging folders carry too (host-identity.ts). Until a domain with that uuid is
 * defined, the volume is staging, owned by process `pid` on the tagged host.
 */
export function stagedVolumeName(uuid: string, diskName: string, pid = process.pid): string {
  return `${uuid}-${diskName}.${thisHostTag()}-${pid}.qcow2`;
}

const STAGED = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-[A-Za-z0-9_-]{1,64}\.([0-9a-f]{8}|[0-9a-f]{12})-(\d+)\.qcow2$/;

/**
 * Deletes the volumes a killed restore left staging: named by `stagedVolumeName` on this host, their process gone,
 * and no domain of their uuid defined (the restore never committed). Volumes of any other name, of a live
 * process, of another host or of a defined domain stay. Returns the volumes deleted.
 */
export async function removeStaleStagedVolumes(virsh: Virsh): Promise<string[]> {
  const pools = await virsh.lines(['pool-list', '--uuid']);
  const volumes: { pool: string; name: string; uuid: string }[] = [];
  for (const pool of pools) {
    for (const line of await virsh.lines(['vol-list', '--pool', pool])) {
      const name = line.split(/\s+/)[0];
      const m = STAGED.exec(name);
      if (m && isThisHost(m[2]) && !isProcessAlive(Number(m[3]))) volumes.push({ pool, name, uuid: m[1] });
    }
  }
  if (volumes.length === 0) return [];
  // Listed after the volumes: a restore that committed meanwhile has its domain here.
  const domains = new Set((await virsh.lines(['list', '--all', '--uuid'])).map((u) => u.toLowerCase()));
  const removed: string[] = [];
  for (const v of volumes) {
    if (domains.has(v.uuid)) continue;
    await virsh.run(['vol-delete', '--pool', v.pool, '--', v.name]);
    removed.push(v.name);
  }
  return removed;
}
