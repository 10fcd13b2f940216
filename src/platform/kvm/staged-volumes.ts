import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { isProcessAlive } from '../../host/process-alive.js';
import type { Virsh } from './virsh.js';

/** This host, in volume names: a staging process's pid means something only on the host it runs on. */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/**
 * The pool volume of disk `diskName` of a VM openem is building: `<vm uuid>-<disk>.<host tag>-<pid>.qcow2`. Until
 * a domain with that uuid is defined, the volume is staging, owned by process `pid` on the tagged host.
 */
export function stagedVolumeName(uuid: string, diskName: string, pid = process.pid): string {
  return `${uuid}-${diskName}.${HOST_TAG}-${pid}.qcow2`;
}

const STAGED = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-[A-Za-z0-9_-]{1,64}\.([0-9a-f]{8})-(\d+)\.qcow2$/;

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
      if (m && m[2] === HOST_TAG && !isProcessAlive(Number(m[3]))) volumes.push({ pool, name, uuid: m[1] });
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
