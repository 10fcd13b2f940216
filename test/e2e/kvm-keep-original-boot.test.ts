// Issue #13, not verified before: a KeepOriginalVM restore of a point of a guest that really boots (Debian's cloud
// kernel, busybox init; the point records the kernel, initrd and command line) makes a new domain that boots and
// finds that point's heartbeat and files, powered on by the restore (PowerOnAfterRestore), while the original
// domain is left as it was.
import assert from 'node:assert/strict';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildBootableGuest, GUEST_DOWN_MARKER } from '../../src/platform/demo/kvm-guest-image.js';
import { createBootableVm } from '../../src/platform/demo/kvm-guest-vm.js';
import { serialLogPath } from '../../src/platform/kvm/domain-xml.js';
import { KvmPlatform } from '../../src/platform/kvm/kvm-platform.js';
import { cliOk } from '../helpers/cli.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { EmClient, findLink } from '../helpers/em-client.js';
import { startServerProcess } from '../helpers/server-process.js';
import { removeEverything, useSharedLibvirt } from '../platform/kvm/private-libvirt.js';
import { consoleEvents, nthBoot } from './kvm-guest-console.js';
import { findPointEntity, rootOf, waitForSession, waitForTask } from './vm-restore-fixtures.js';

const libvirt = useSharedLibvirt();
const MIB = 2 ** 20;
const DISK = 128 * MIB;
const NOBODY = 65534;

const KEEP_XML = `<?xml version="1.0" encoding="utf-8"?>
<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0">
 <VmRestoreSpec>
   <PowerOnAfterRestore>true</PowerOnAfterRestore>
   <QuickRollback>false</QuickRollback>
   <KeepOriginalVM>true</KeepOriginalVM>
 </VmRestoreSpec>
</RestoreSpec>`;

test("KeepOriginalVM of a bootable KVM guest's point: the new domain boots and finds that point's heartbeat and files; the original stays as it was", async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const dataDir = tempDir(cleanupOf(t), 'openem-kvm-keep-boot-');
  const consoleDir = join(lv.dir, 'console');
  await mkdir(consoleDir);
  await chown(consoleDir, NOBODY, NOBODY);
  const guest = await buildBootableGuest({ dir: join(lv.dir, 'guest'), name: 'keepboot', diskSize: DISK, changeMiBPerBoot: 1, files: { 'data/etc/motd': 'kept by openem\n' } });
  // /dev/kvm opens here but hangs a Linux guest (kvm-boot-restore probes it); TCG boots everywhere.
  const kvm = { uri: lv.uri, consoleLogDir: consoleDir, accelerator: 'tcg', shutdownTimeoutSeconds: 120 } as const;
  await writeFile(join(dataDir, 'openem.json'), JSON.stringify({ platforms: [{ id: 'kvm', kind: 'kvm', ...kvm }] }));
  const platform = await KvmPlatform.open({ uri: lv.uri, consoleLogDir: consoleDir, accelerator: 'tcg', shutdownTimeoutMs: 120_000 });
  const vm = await createBootableVm(platform, guest, { name: 'keepboot', diskSize: DISK });
  const serial = serialLogPath(consoleDir, vm.id);

  await platform.setPowerState(vm.id, 'PoweredOn');
  const up1 = await nthBoot(serial, 1);
  assert.deepEqual({ boot: up1.boot, found: up1.found }, { boot: 1, found: 'none' });
  await cliOk(dataDir, ['backup', 'keepboot']);
  // The original goes on: a second boot writes its own heartbeat after the point.
  await platform.setPowerState(vm.id, 'PoweredOff');
  assert.ok((await consoleEvents(serial)).includes(`${GUEST_DOWN_MARKER} boot=1`), 'the guest shut itself down');

  const server = await startServerProcess({ dataDir });
  t.after(() => server.stop());
  const c = new EmClient(server.http, 'xml');
  const point = await findPointEntity(c, 'keepboot');
  const posted = await c.request('POST', findLink(point, 'Restore')!.Href, { body: KEEP_XML });
  assert.equal(posted.status, 202, posted.text);
  const session = await waitForSession(c, await waitForTask(c, rootOf(posted.body, c.format, 'Task').Href), 300_000);
  assert.equal(session.Result, 'Success', session.FailureMessage);

  const restored = await platform.findVm('keepboot_restored');
  assert.ok(restored, 'the new VM is a libvirt domain');
  assert.notEqual(restored.id, vm.id);
  assert.deepEqual(restored.boot, (await platform.findVm(vm.id))!.boot, "it boots the point's kernel, initrd and command line");
  assert.equal(restored.powerState, 'PoweredOn', 'PowerOnAfterRestore started it');
  const upNew = await nthBoot(serialLogPath(consoleDir, restored.id), 1);
  assert.deepEqual(
    { boot: upNew.boot, found: upNew.found, before: upNew.before },
    { boot: 2, found: 'boot=1,beat=0', before: up1.after },
    "the new domain boots on the point: its heartbeat says one boot before, /data is as the point holds it",
  );
  assert.equal((await platform.findVm(vm.id))!.powerState, 'PoweredOff', 'the original is not started');
  assert.equal((await consoleEvents(serial)).filter((l) => !l.startsWith(GUEST_DOWN_MARKER)).length, 1, 'nor booted again');
});
