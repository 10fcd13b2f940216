import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { BLOCK_SIZE, type Extent } from '../../../src/disks/block-source.js';
import type { Platform, PresentedPlatform, RestoreIncompleteMark, VmConfig } from '../../../src/platform/platform.js';

/**
 * The behaviour every platform shows behind `Platform` (issue #15 "Contract tests"). A platform joins by giving
 * a fixture factory (`local.contract.test.ts`); the suite runs once per platform it presents as.
 */
export interface PlatformFixture {
  platform: Platform;
  /** Stops what the fixture started and removes what it made. */
  close(): Promise<void>;
}

export interface PlatformFixtureFactory {
  name: string;
  /** The Enterprise Manager platforms its VMs can present as. */
  presentations: readonly PresentedPlatform[];
  /** A platform with no VMs yet. */
  open(): Promise<PlatformFixture>;
  /** Whether its disks report holes in `allocatedExtents` (false: the whole disk is allowed as the answer). */
  reportsHoles: boolean;
  /** Whether its disks declare changed-block tracking. */
  changeTracking: boolean;
}

const HOST_TYPE: Record<PresentedPlatform, string> = { vsphere: 'VC', hyperv: 'HyperV', vcloud: 'VcdSystem' };
const MIB = 1024 * 1024;
const DISK_SIZE = 48 * MIB;
/** Blocks of the sparse disk that hold data; the rest are holes. */
const DATA_BLOCKS = [1, 2, 17, 40];

function pattern(block: number): Buffer {
  const b = Buffer.alloc(BLOCK_SIZE);
  for (let i = 0; i < b.length; i += 4) b.writeUInt32LE((block * 2654435761 + i) >>> 0, i);
  return b;
}

function template(name: string, platform: PresentedPlatform): Omit<VmConfig, 'id' | 'createdAt'> {
  return {
    name,
    cpus: 2,
    memoryMiB: 1024,
    powerState: 'PoweredOff',
    guestOs: 'linux',
    platform,
    hierarchyRootId: '',
    datastoreId: '',
    disks: [
      { name: 'disk0', size: DISK_SIZE },
      { name: 'disk1', size: 4 * MIB },
    ],
  };
}

/** A committed VM whose disk0 holds DATA_BLOCKS and holes elsewhere. */
async function sparseVm(platform: Platform, name: string, presentation: PresentedPlatform): Promise<VmConfig> {
  const staged = await platform.stageNewVm(template(name, presentation));
  try {
    const w = await staged.openDiskForWrite('disk0');
    for (const b of DATA_BLOCKS) await w.write(b * BLOCK_SIZE, pattern(b));
    await w.sync();
    await w.close();
    return await staged.commit();
  } catch (e) {
    await staged.abort();
    throw e;
  }
}

async function readWhole(platform: Platform, vmId: string, disk: string): Promise<Buffer> {
  const source = await platform.openDisk(vmId, disk);
  try {
    return Buffer.from(await source.read(0, source.size));
  } finally {
    await source.close();
  }
}

function expectedDisk0(): Buffer {
  const b = Buffer.alloc(DISK_SIZE);
  for (const i of DATA_BLOCKS) pattern(i).copy(b, i * BLOCK_SIZE);
  return b;
}

function mark(sessionId: string, state: RestoreIncompleteMark['state']): RestoreIncompleteMark {
  return {
    state,
    sessionId,
    vmRestorePointId: 'point-1',
    restorePointTime: '2026-01-01T00:00:00.000Z',
    request: { quickRollback: false, powerOnAfterRestore: false },
    since: '2026-01-01T00:00:00.000Z',
  };
}

/** Runs the whole contract for `factory`, once per presentation. */
export function runPlatformContract(factory: PlatformFixtureFactory): void {
  for (const presentation of factory.presentations) {
    const name = `${factory.name} as ${presentation}`;
    const withPlatform = (what: string, body: (platform: Platform) => Promise<void>) =>
      test(`${name}: ${what}`, async (t) => {
        const fixture = await factory.open();
        t.after(() => fixture.close());
        await body(fixture.platform);
      });

    withPlatform('the hierarchy has a root of this platform, and every datastore sits on a root', async (platform) => {
      const roots = await platform.hierarchyRoots();
      const root = roots.find((r) => r.platform === presentation);
      assert.ok(root, `a hierarchy root presents ${presentation}`);
      assert.equal(root.hostType, HOST_TYPE[presentation]);
      const stores = await platform.datastores();
      assert.ok(stores.some((d) => d.hierarchyRootId === root.id), 'the root has a datastore');
      for (const d of stores) assert.ok(roots.some((r) => r.id === d.hierarchyRootId), `datastore ${d.name} is on a known root`);
      assert.deepEqual(await platform.listVms(), []);
    });

    withPlatform('a committed VM is listed on a datastore of its platform, found by id and by name, and its disks read back', async (platform) => {
      const vm = await sparseVm(platform, 'contract01', presentation);
      assert.equal(vm.platform, presentation);
      assert.deepEqual(vm.disks, [{ name: 'disk0', size: DISK_SIZE }, { name: 'disk1', size: 4 * MIB }], 'disks by name and size only');
      const root = (await platform.hierarchyRoots()).find((r) => r.id === vm.hierarchyRootId);
      assert.equal(root?.platform, presentation);
      assert.ok((await platform.datastores()).some((d) => d.id === vm.datastoreId && d.hierarchyRootId === vm.hierarchyRootId));
      assert.deepEqual(await platform.listVms(), [vm]);
      assert.deepEqual(await platform.findVm(vm.id), vm);
      assert.deepEqual(await platform.findVm(vm.id.toUpperCase()), vm);
      assert.deepEqual(await platform.findVm('contract01'), vm);
      assert.equal(await platform.findVm('nope'), undefined);
      assert.ok((await readWhole(platform, vm.id, 'disk0')).equals(expectedDisk0()));
      assert.ok((await readWhole(platform, vm.id, 'disk1')).equals(Buffer.alloc(4 * MIB)));
      const source = await platform.openDisk(vm.id, 'disk0');
      try {
        assert.equal(source.size, DISK_SIZE);
        assert.equal((await source.read(DISK_SIZE - 10, 100)).length, 10, 'reads are cut at the end');
      } finally {
        await source.close();
      }
    });

    withPlatform('allocatedExtents covers every byte of data, and on a thin disk leaves the holes out', async (platform) => {
      const vm = await sparseVm(platform, 'sparse01', presentation);
      const bytes = await readWhole(platform, vm.id, 'disk0');
      const source = await platform.openDisk(vm.id, 'disk0');
      let extents: Extent[];
      try {
        extents = await source.allocatedExtents();
      } finally {
        await source.close();
      }
      const covered = new Uint8Array(DISK_SIZE);
      for (const e of extents) {
        assert.ok(e.offset >= 0 && e.length > 0 && e.offset + e.length <= DISK_SIZE, `extent ${e.offset}+${e.length} lies within the disk`);
        covered.fill(1, e.offset, e.offset + e.length);
      }
      let uncoveredData = 0;
      for (let i = 0; i < DISK_SIZE; i++) if (!covered[i] && bytes[i] !== 0) uncoveredData++;
      assert.equal(uncoveredData, 0, 'no byte of data lies outside the extents');
      const total = extents.reduce((n, e) => n + e.length, 0);
      if (factory.reportsHoles) assert.ok(total <= (DATA_BLOCKS.length + 2) * BLOCK_SIZE, `only the data is reported (${total} bytes)`);
      else assert.ok(total <= DISK_SIZE);
    });

    withPlatform('a disk opened for write takes writes and zeroes at offsets; an exposed disk holds the same bytes', async (platform) => {
      const vm = await sparseVm(platform, 'write01', presentation);
      const w = await platform.openDiskForWrite(vm.id, 'disk0');
      assert.equal(w.size, DISK_SIZE);
      await w.write(30 * BLOCK_SIZE + 7, Buffer.from('written at an offset'));
      await w.zero(17 * BLOCK_SIZE, BLOCK_SIZE);
      await w.sync();
      await w.close();
      const expected = expectedDisk0();
      expected.fill(0, 17 * BLOCK_SIZE, 18 * BLOCK_SIZE);
      Buffer.from('written at an offset').copy(expected, 30 * BLOCK_SIZE + 7);
      const bytes = await readWhole(platform, vm.id, 'disk0');
      assert.ok(bytes.equals(expected));
      const exposed = await platform.exposeDisk(vm.id, 'disk0');
      try {
        assert.equal(exposed.endpoint.kind, 'raw-file');
        assert.ok((await readFile(exposed.endpoint.path)).equals(expected), 'the endpoint is the disk');
      } finally {
        await exposed.close();
      }
    });

    withPlatform(`changed-block tracking is ${factory.changeTracking ? 'declared and reports a write made after the checkpoint' : 'absent'}`, async (platform) => {
      const vm = await sparseVm(platform, 'cbt01', presentation);
      const before = await platform.openDisk(vm.id, 'disk0', { changeTracking: true });
      const tracking = before.changeTracking;
      await before.close();
      if (!factory.changeTracking) {
        assert.equal(tracking, undefined);
        return;
      }
      assert.ok(tracking);
      const w = await platform.openDiskForWrite(vm.id, 'disk0');
      await w.write(25 * BLOCK_SIZE, pattern(25));
      await w.close();
      const after = await platform.openDisk(vm.id, 'disk0', { changeTracking: true });
      try {
        const changed = await after.changeTracking!.changedBlocksSince(tracking.checkpoint!);
        assert.ok(Array.isArray(changed) && changed.some((e) => e.offset <= 25 * BLOCK_SIZE && e.offset + e.length >= 26 * BLOCK_SIZE));
      } finally {
        await after.close();
      }
    });

    withPlatform('power follows the restore-incomplete mark: refused while marked, forced only when abandoned, cleared by its own session', async (platform) => {
      const vm = await sparseVm(platform, 'power01', presentation);
      await platform.setPowerState(vm.id, 'PoweredOn');
      assert.equal((await platform.findVm(vm.id))?.powerState, 'PoweredOn');
      await platform.setPowerState(vm.id, 'PoweredOff');
      assert.equal((await platform.findVm(vm.id))?.powerState, 'PoweredOff');

      await platform.markRestoreIncomplete(vm.id, mark('session-a', 'writing'));
      assert.deepEqual((await platform.findVm(vm.id))?.restoreIncomplete, mark('session-a', 'writing'));
      await assert.rejects(platform.setPowerState(vm.id, 'PoweredOn'), { code: 'CONFLICT' });
      await assert.rejects(platform.setPowerState(vm.id, 'PoweredOn', { force: true }), { code: 'CONFLICT' });
      await platform.markRestoreIncomplete(vm.id, mark('session-a', 'abandoned'));
      await platform.setPowerState(vm.id, 'PoweredOn', { force: true });
      assert.equal((await platform.findVm(vm.id))?.powerState, 'PoweredOn');

      await platform.clearRestoreIncomplete(vm.id, 'session-b');
      assert.equal((await platform.findVm(vm.id))?.restoreIncomplete?.sessionId, 'session-a', "another session's clear leaves the mark");
      await platform.clearRestoreIncomplete(vm.id, 'session-a');
      assert.equal((await platform.findVm(vm.id))?.restoreIncomplete, undefined);
    });

    withPlatform('a config brought back keeps the VM where it is, its disks and its mark', async (platform) => {
      const vm = await sparseVm(platform, 'config01', presentation);
      await platform.markRestoreIncomplete(vm.id, mark('session-c', 'writing'));
      await platform.updateVmConfig({ ...vm, cpus: 8, memoryMiB: 4096, datastoreId: 'elsewhere', hierarchyRootId: 'elsewhere', restoreIncomplete: undefined });
      const now = await platform.findVm(vm.id);
      assert.equal(now?.cpus, 8);
      assert.equal(now?.memoryMiB, 4096);
      assert.equal(now?.datastoreId, vm.datastoreId);
      assert.equal(now?.hierarchyRootId, vm.hierarchyRootId);
      assert.deepEqual(now?.disks, vm.disks);
      assert.equal(now?.restoreIncomplete?.sessionId, 'session-c');
      assert.ok((await readWhole(platform, vm.id, 'disk0')).equals(expectedDisk0()), 'the disk is untouched');
    });

    withPlatform('a staged VM is invisible until committed, an aborted one leaves nothing, and a second VM of one name is a CONFLICT', async (platform) => {
      const staged = await platform.stageNewVm(template('stage01', presentation));
      assert.deepEqual(await platform.listVms(), []);
      assert.equal(await platform.findVm('stage01'), undefined);
      const aborted = await platform.stageNewVm(template('stage02', presentation));
      await aborted.abort();
      await aborted.abort();
      const vm = await staged.commit();
      assert.deepEqual(await platform.listVms(), [vm]);
      const twin = await platform.stageNewVm(template('twin01', presentation));
      const other = await platform.stageNewVm(template('twin01', presentation));
      await twin.commit();
      await assert.rejects(other.commit(), { code: 'CONFLICT' });
      await other.abort();
      assert.deepEqual((await platform.listVms()).map((v) => v.name).sort(), ['stage01', 'twin01']);
    });

    withPlatform('refusals carry codes: unknown VM or disk NOT_FOUND, unknown power state and bad templates BAD_REQUEST', async (platform) => {
      const vm = await sparseVm(platform, 'errors01', presentation);
      const unknown = '00000000-0000-4000-8000-000000000000';
      await assert.rejects(platform.openDisk(unknown, 'disk0'), { code: 'NOT_FOUND' });
      await assert.rejects(platform.openDisk(vm.id, 'disk9'), { code: 'NOT_FOUND' });
      await assert.rejects(platform.openDiskForWrite(vm.id, 'disk9'), { code: 'NOT_FOUND' });
      await assert.rejects(platform.exposeDisk(unknown, 'disk0'), { code: 'NOT_FOUND' });
      await assert.rejects(platform.setPowerState(unknown, 'PoweredOn'), { code: 'NOT_FOUND' });
      await assert.rejects(platform.setPowerState(vm.id, 'Suspended' as never), { code: 'BAD_REQUEST' });
      await assert.rejects(platform.markRestoreIncomplete(unknown, mark('s', 'writing')), { code: 'NOT_FOUND' });
      await assert.rejects(platform.stageNewVm({ ...template('errors02', presentation), disks: [{ name: 'disk0', size: 0 }] }), { code: 'BAD_REQUEST' });
      await assert.rejects(platform.stageNewVm({ ...template('errors03', presentation), disks: [{ name: 'disk0', size: MIB }, { name: 'disk0', size: MIB }] }), { code: 'BAD_REQUEST' });
      await assert.rejects(platform.stageNewVm(template('errors01', presentation)), { code: 'CONFLICT' });
      const w = await platform.openDiskForWrite(vm.id, 'disk1');
      try {
        await assert.rejects(w.write(4 * MIB - 2, Buffer.alloc(4)), { code: 'BAD_REQUEST' });
      } finally {
        await w.close();
      }
    });
  }
}
