// Issue #13 step 4: what a killed KeepOriginalVM restore left in a pool (volumes of a VM never defined, whose
// process is gone) is deleted when the kvm platform opens — also one named with the hostname tag of earlier
// versions; a live process's, a defined domain's, another host's and foreign volumes stay. Volumes carry the host
// tag the local platform's staging folders carry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { KvmPlatform } from '../../../src/platform/kvm/kvm-platform.js';
import { stagedVolumeName } from '../../../src/platform/kvm/staged-volumes.js';
import { thisHostTag } from '../../../src/host/host-identity.js';
import { removeEverything, useSharedLibvirt } from './private-libvirt.js';

const libvirt = useSharedLibvirt();

test("opening the kvm platform deletes a dead restore's staged volumes and nothing else", async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const first = await KvmPlatform.open({ uri: lv.uri });
  const defined = await (await first.stageNewVm({
    name: 'stale01', cpus: 1, memoryMiB: 64, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere', hierarchyRootId: '', datastoreId: '',
    disks: [{ name: 'disk0', size: 1024 * 1024 }],
  })).commit();
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const leftover = stagedVolumeName(randomUUID(), 'disk0', dead);
  assert.ok(leftover.includes(`.${thisHostTag()}-${dead}.`), `named with the one host tag: ${leftover}`);
  const oldLeftover = `${randomUUID()}-disk0.${createHash('sha256').update(hostname()).digest('hex').slice(0, 8)}-${dead}.qcow2`;
  const otherHost = `${randomUUID()}-disk0.${thisHostTag() === '0'.repeat(12) ? '1'.repeat(12) : '0'.repeat(12)}-${dead}.qcow2`;
  const live = stagedVolumeName(randomUUID(), 'disk0', process.pid);
  const foreign = 'somebody-elses.qcow2';
  for (const v of [leftover, oldLeftover, otherHost, live, foreign]) lv.virsh('vol-create-as', 'openem', v, '1M', '--format', 'qcow2');
  const volumes = () => lv.virsh('vol-list', '--pool', 'openem').split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean).sort();
  const definedVolume = volumes().find((v) => v.startsWith(defined.id))!;
  assert.ok(definedVolume, "the defined VM's volume is there");

  await KvmPlatform.open({ uri: lv.uri });
  assert.deepEqual(volumes(), [definedVolume, foreign, live, otherHost].sort(), "only this host's dead restores' volumes went");
  for (const v of [live, otherHost]) lv.virsh('vol-delete', '--pool', 'openem', v);
});
