// Issue #13 "How it is checked": a KVM guest that really boots (Debian's cloud kernel, busybox init) writes its
// files; a full backup; the guest changes ~1% of its disk; the incremental backup reads only that; QuickRollback
// through seed 003's links (XML, then JSON) powers the running VM off first, fetches and writes only the changed
// blocks without reading the disk for a comparison, and the VM boots again and finds its files as at the point.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { kvmRunsLinux } from '../../src/platform/demo/kvm-accelerator-probe.js';
import { buildBootableGuest, GUEST_DOWN_MARKER } from '../../src/platform/demo/kvm-guest-image.js';
import { createBootableVm } from '../../src/platform/demo/kvm-guest-vm.js';
import { serialLogPath } from '../../src/platform/kvm/domain-xml.js';
import { KvmPlatform } from '../../src/platform/kvm/kvm-platform.js';
import { cliOk } from '../helpers/cli.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { EmClient, findLink, type Format } from '../helpers/em-client.js';
import { startServerProcess } from '../helpers/server-process.js';
import { removeEverything, useSharedLibvirt } from '../platform/kvm/private-libvirt.js';
import { consoleEvents, nthBoot } from './kvm-guest-console.js';
import { logLines, rootOf, waitForSession, waitForTask } from './vm-restore-fixtures.js';

const libvirt = useSharedLibvirt();
const MIB = 2 ** 20;
const DISK = 256 * MIB;
/** ~1% of the disk, written by the guest on each boot from its second on. */
const CHANGE_MIB = 2;
const SEED_MIB = 24;
const NOBODY = 65534;

interface BackupOut {
  id: string;
  pointType: string;
  stats: { bytesRead: number };
  notes: { text: string }[];
}

async function backup(dataDir: string): Promise<BackupOut> {
  const out = JSON.parse(await cliOk(dataDir, ['backup', 'boot01', '--json'])) as BackupOut[];
  assert.equal(out.length, 1);
  return out[0];
}

/** Seed 003 steps 1-5 for one point: log on, VmRestorePointReferenceList, the point's Alternate entity. */
async function pointEntity(c: EmClient, pointId: string): Promise<any> {
  const logon = await c.logOn();
  assert.equal(logon.status, 201);
  const down = findLink(rootOf(logon.body, c.format, 'LogonSession'), 'Down', 'VmRestorePointReferenceList');
  const list = await c.get(down!.Href);
  const refs: any[] = c.format === 'xml' ? [list.body.EntityReferences.Ref].flat() : list.body.Refs;
  const ref = refs.find((r) => r.UID === `urn:veeam:VmRestorePoint:${pointId}`);
  assert.ok(ref, `point ${pointId} is listed`);
  const entity = await c.get(findLink(ref, 'Alternate', 'VmRestorePoint')!.Href);
  assert.equal(entity.status, 200);
  return rootOf(entity.body, c.format, 'VmRestorePoint');
}

/** Seed 003 steps 6-8: POST the Restore link, the 202 Task, poll it, follow Related to the stopped session. */
async function quickRollbackByLinks(c: EmClient, pointId: string): Promise<{ session: any; log: string[] }> {
  const body: Record<Format, string> = {
    xml: `<?xml version="1.0" encoding="utf-8"?>\n<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0">\n <VmRestoreSpec>\n   <PowerOnAfterRestore>true</PowerOnAfterRestore>\n   <QuickRollback>true</QuickRollback>\n </VmRestoreSpec>\n</RestoreSpec>`,
    json: JSON.stringify({ VmRestoreSpec: { PowerOnAfterRestore: true, QuickRollback: true } }),
  };
  const point = await pointEntity(c, pointId);
  const posted = await c.request('POST', findLink(point, 'Restore')!.Href, { body: body[c.format] });
  assert.equal(posted.status, 202, posted.text);
  const task = rootOf(posted.body, c.format, 'Task');
  assert.equal(task.Operation, 'StartVMRestore');
  const finished = await waitForTask(c, task.Href);
  assert.equal(String(finished.Result.Success), 'true');
  const session = await waitForSession(c, finished, 300_000);
  assert.equal(session.Result, 'Success', session.FailureMessage);
  return { session, log: await logLines(c, session) };
}

function counters(log: string[]): { fetched: number; written: number; zeroed: number; unchanged: number; line: string } {
  const line = log.find((t) => t.startsWith('Disk disk0:'));
  assert.ok(line, `a disk line in ${JSON.stringify(log)}`);
  const n = (re: RegExp) => Number(re.exec(line)![1]);
  return { fetched: n(/fetched (\d+) blocks/), written: n(/wrote (\d+) blocks/), zeroed: n(/zeroed (\d+) blocks/), unchanged: n(/left (\d+) blocks unchanged/), line };
}

/** What a QuickRollback of the running guest must show: powered off first, only tracked blocks written, nothing compared. */
function assertTrackedRollback(log: string[], format: Format, diagnostic: (s: string) => void): void {
  const off = log.indexOf('VM boot01 powered off');
  assert.ok(off >= 0, `the running VM is powered off first (${format}): ${JSON.stringify(log)}`);
  const disk = log.findIndex((t) => t.startsWith('Disk disk0:'));
  assert.ok(off < disk, 'before its disk is written');
  assert.ok(log.some((t) => /^Changed-block tracking of disk disk0 since the restore point of .* names \d+ blocks that may differ/.test(t)), JSON.stringify(log));
  const c = counters(log);
  diagnostic(`${format}: ${c.line}`);
  assert.doesNotMatch(c.line, /compared/, `nothing of the disk was read for a comparison: ${c.line}`);
  assert.equal(c.written, c.fetched, 'every block fetched is written, no other');
  const changed = c.fetched + c.zeroed;
  assert.ok(changed >= CHANGE_MIB && changed <= CHANGE_MIB + 12, `only the ~1% the guest changed is written or zeroed: ${c.line}`);
  assert.equal(c.fetched + c.zeroed + c.unchanged, DISK / MIB);
}

test('a KVM guest boots, is backed up, changes 1%, is backed up by CBT, and after QuickRollback by links in XML and in JSON boots again and finds its files as at each point', async (t) => {
  const lv = await libvirt();
  t.after(() => removeEverything(lv));
  const dataDir = tempDir(cleanupOf(t), 'openem-kvm-boot-');
  // In the daemon's folder: libvirt's QEMU runs as its user and reads the kernel, writes the console there.
  const consoleDir = join(lv.dir, 'console');
  await mkdir(consoleDir);
  await chown(consoleDir, NOBODY, NOBODY);
  const guest = await buildBootableGuest({
    dir: join(lv.dir, 'guest'), name: 'boot01', diskSize: DISK, changeMiBPerBoot: CHANGE_MIB,
    files: { 'data/seed.bin': randomBytes(SEED_MIB * MIB), 'data/etc/motd': 'booted by openem\n' },
  });
  const accelerator = (await kvmRunsLinux(guest.kernel)) ? 'kvm' : 'tcg';
  t.diagnostic(`accelerator: ${accelerator}`);
  const kvm = { uri: lv.uri, consoleLogDir: consoleDir, accelerator, shutdownTimeoutSeconds: 120 } as const;
  await writeFile(join(dataDir, 'openem.json'), JSON.stringify({ platforms: [{ id: 'kvm', kind: 'kvm', ...kvm }] }));
  const platform = await KvmPlatform.open({ uri: lv.uri, consoleLogDir: consoleDir, accelerator, shutdownTimeoutMs: 120_000 });
  const vm = await createBootableVm(platform, guest, { name: 'boot01', diskSize: DISK });
  const serial = serialLogPath(consoleDir, vm.id);
  const state = () => lv.virsh('domstate', vm.id).trim();

  // Boot 1: the guest finds no heartbeat and writes its first.
  await platform.setPowerState(vm.id, 'PoweredOn');
  const up1 = await nthBoot(serial, 1);
  assert.deepEqual({ boot: up1.boot, found: up1.found }, { boot: 1, found: 'none' });
  assert.equal(up1.after, up1.before, 'the first boot changes nothing in /data');

  const full = await backup(dataDir);
  assert.equal(full.pointType, 'Full');
  assert.ok(full.stats.bytesRead >= SEED_MIB * MIB, `the full backup read the guest's data (${full.stats.bytesRead} bytes)`);
  assert.ok(full.notes.some((n) => /crash-consistent/.test(n.text)), `a live backup without a guest agent says so: ${JSON.stringify(full.notes)}`);

  // A graceful power-off (the guest's ACPI button), then boot 2 writes CHANGE_MIB MiB: ~1% of the disk.
  await platform.setPowerState(vm.id, 'PoweredOff');
  assert.ok((await consoleEvents(serial)).includes(`${GUEST_DOWN_MARKER} boot=1`), 'the guest shut itself down');
  await platform.setPowerState(vm.id, 'PoweredOn');
  const up2 = await nthBoot(serial, 2);
  assert.deepEqual({ boot: up2.boot, found: up2.found, before: up2.before }, { boot: 2, found: 'boot=1,beat=0', before: up1.after });
  assert.notEqual(up2.after, up2.before, 'boot 2 wrote its file');

  const incr = await backup(dataDir);
  assert.equal(incr.pointType, 'Increment');
  assert.ok(incr.stats.bytesRead >= CHANGE_MIB * MIB, `the increment read what the guest wrote (${incr.stats.bytesRead} bytes)`);
  // Besides the file: 1 MiB blocks around ext4's scattered metadata (superblock, bitmaps, inode table, folders,
  // the heartbeat), 6-8 MiB in all in the runs seen here.
  assert.ok(incr.stats.bytesRead <= (CHANGE_MIB + 12) * MIB && incr.stats.bytesRead * 2 < full.stats.bytesRead, `and little else: ${incr.stats.bytesRead} bytes of a ${DISK / MIB} MiB disk (the full read ${full.stats.bytesRead})`);
  assert.equal(state(), 'running');
  t.diagnostic(`bytes read: full ${full.stats.bytesRead}, increment ${incr.stats.bytesRead}`);

  const server = await startServerProcess({ dataDir });
  t.after(() => server.stop());

  // XML, to the full point, while the guest runs: off first, then booted again finding boot 1's heartbeat and files.
  const xml = await quickRollbackByLinks(new EmClient(server.http, 'xml'), full.id);
  assertTrackedRollback(xml.log, 'xml', (s) => t.diagnostic(s));
  const afterXml = await consoleEvents(serial);
  assert.ok(afterXml.includes(`${GUEST_DOWN_MARKER} boot=2`), 'the restore shut the guest down gracefully before writing');
  const up3 = await nthBoot(serial, 3);
  assert.deepEqual(
    { boot: up3.boot, found: up3.found, before: up3.before },
    { boot: 2, found: 'boot=1,beat=0', before: up1.after },
    'the guest boots on the first point: its heartbeat says one boot, /data is as it was then',
  );

  // JSON, to the increment: boot 2's heartbeat and its file, as the backup took them.
  const json = await quickRollbackByLinks(new EmClient(server.http, 'json'), incr.id);
  assertTrackedRollback(json.log, 'json', (s) => t.diagnostic(s));
  const up4 = await nthBoot(serial, 4);
  assert.deepEqual({ boot: up4.boot, found: up4.found, before: up4.before }, { boot: 3, found: 'boot=2,beat=0', before: up2.after });
  assert.equal(state(), 'running', 'PowerOnAfterRestore started it');
});
