// Issue #13: a domain openem defines has a QEMU guest agent channel, and it starts even when the private
// daemon's folder (a data directory's) is far longer than a socket path may be (107 bytes): libvirt binds the
// channel and monitor sockets in the daemon's short run folder.
import assert from 'node:assert/strict';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { BLOCK_SIZE } from '../../../src/disks/block-source.js';
import { KvmPlatform } from '../../../src/platform/kvm/kvm-platform.js';
import { startPrivateLibvirtd } from '../../../src/platform/kvm/private-libvirtd.js';
import { cleanupOf, tempDir } from '../../helpers/cleanup.js';

test("a domain openem defines has a guest agent channel whose socket is bound under 107 bytes, with the daemon's folder 200 bytes deep", async (t) => {
  const cleanup = cleanupOf(t);
  const root = tempDir(cleanup, 'openem-long-');
  await chmod(root, 0o711);
  let dir = root;
  while (dir.length < 200) dir = join(dir, 'a-rather-long-data-directory-name');
  await mkdir(dir, { recursive: true });
  for (let p = dir; p !== root; p = join(p, '..')) await chmod(p, 0o711);
  const lv = await startPrivateLibvirtd({ dir: join(dir, 'libvirt') });
  cleanup.defer(() => lv.stop());
  assert.ok(lv.dir.length > 200);

  const platform = await KvmPlatform.open({ uri: lv.uri, shutdownTimeoutMs: 500 });
  const staged = await platform.stageNewVm({
    name: 'a-guest-name-longer-than-twenty', cpus: 1, memoryMiB: 32, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere',
    hierarchyRootId: '', datastoreId: '', disks: [{ name: 'disk0', size: 4 * BLOCK_SIZE }],
  });
  const vm = await staged.commit();
  await platform.setPowerState(vm.id, 'PoweredOn');
  const live = lv.virsh('dumpxml', vm.id);
  const path = /<channel type='unix'>\s*<source mode='bind' path='([^']+)'\/>\s*<target type='virtio' name='org\.qemu\.guest_agent\.0' state='disconnected'\/>/.exec(live)?.[1];
  assert.ok(path, `the running domain has the agent channel, not connected (no agent runs):\n${live}`);
  assert.ok(Buffer.byteLength(path) <= 107, `${path} fits a socket address`);
  assert.ok((await stat(path)).isSocket(), 'QEMU bound it');
  await platform.setPowerState(vm.id, 'PoweredOff');
});
