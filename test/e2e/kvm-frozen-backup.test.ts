// Issue #13 item 2, the frozen path: a booted guest running the QEMU guest agent is backed up live with its
// filesystems frozen through the agent, the backup task session says so, and the guest is thawed afterwards.
import assert from 'node:assert/strict';
import { chown, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { kvmRunsLinux } from '../../src/platform/demo/kvm-accelerator-probe.js';
import { buildBootableGuest, GUEST_UP_MARKER } from '../../src/platform/demo/kvm-guest-image.js';
import { createBootableVm } from '../../src/platform/demo/kvm-guest-vm.js';
import { serialLogPath } from '../../src/platform/kvm/domain-xml.js';
import { KvmPlatform } from '../../src/platform/kvm/kvm-platform.js';
import { cliOk } from '../helpers/cli.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { EmClient, waitFor } from '../helpers/em-client.js';
import { startServerProcess } from '../helpers/server-process.js';
import { removeEverything, useSharedLibvirt } from '../platform/kvm/private-libvirt.js';

const libvirt = useSharedLibvirt();
const MIB = 2 ** 20;
const NOBODY = 65534;

test('a running guest with the QEMU guest agent is backed up frozen, the backup task session says so, and the guest is thawed after', async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const dataDir = tempDir(cleanupOf(t), 'openem-kvm-frozen-');
  const consoleDir = join(lv.dir, 'console');
  await mkdir(consoleDir, { recursive: true });
  await chown(consoleDir, NOBODY, NOBODY);
  const guest = await buildBootableGuest({ dir: join(lv.dir, 'guest-ga'), name: 'ga01', diskSize: 64 * MIB, guestAgent: true });
  const accelerator = (await kvmRunsLinux(guest.kernel)) ? 'kvm' : 'tcg';
  await writeFile(join(dataDir, 'openem.json'), JSON.stringify({ platforms: [{ id: 'kvm', kind: 'kvm', uri: lv.uri, consoleLogDir: consoleDir, accelerator, shutdownTimeoutSeconds: 120 }] }));
  const platform = await KvmPlatform.open({ uri: lv.uri, consoleLogDir: consoleDir, accelerator });
  const vm = await createBootableVm(platform, guest, { name: 'ga01', diskSize: 64 * MIB });
  assert.match(lv.virsh('dumpxml', vm.id), /<target type='virtio' name='org.qemu.guest_agent.0'/, 'a domain openem defines has the agent channel');
  await platform.setPowerState(vm.id, 'PoweredOn');
  await waitFor('the guest to boot', async () => ((await readFile(serialLogPath(consoleDir, vm.id), 'latin1').catch(() => '')).includes(GUEST_UP_MARKER) ? true : undefined), 240_000, 200);
  await waitFor('the agent to answer', async () => (/"return"/.test(agent(lv.virsh, vm.id, 'guest-ping')) ? true : undefined), 120_000, 500);

  await cliOk(dataDir, ['job', 'create', 'Frozen', '--vm', 'ga01']);
  const server = await startServerProcess({ dataDir });
  t.after(() => server.stop());
  const c = new EmClient(server.http, 'json');
  assert.equal((await c.logOn()).status, 201);
  const jobs = (await c.get(`${server.http}/api/jobs?format=Entity`)).body.Jobs as any[];
  const jobId = String(jobs.find((j) => j.Name === 'Frozen').UID).split(':').pop();
  const start = await c.request('POST', `${server.http}/api/jobs/${jobId}?action=start`);
  assert.equal(start.status, 202, start.text);
  const task = await waitFor('the backup task session', async () => {
    const list = (await c.get(`${server.http}/api/backupTaskSessions?format=Entity`)).body.BackupTaskSessions as any[];
    return list.find((s) => s.VmDisplayName === 'ga01' && s.State === 'Completed');
  }, 300_000, 500);
  assert.equal(task.Result, 'Success', task.Reason);
  assert.match(task.Reason, /Disk disk0: read live with the guest's filesystems frozen through the QEMU guest agent/);
  assert.match(agent(lv.virsh, vm.id, 'guest-fsfreeze-status'), /"return":"thawed"/, 'the guest is thawed after the backup');
});

function agent(virsh: (...args: string[]) => string, uuid: string, command: string): string {
  try {
    return virsh('qemu-agent-command', uuid, JSON.stringify({ execute: command }), '--timeout', '5');
  } catch (e) {
    return String(e);
  }
}
