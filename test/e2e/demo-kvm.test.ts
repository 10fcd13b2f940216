// Issue #13 item 4: `openem serve --demo kvm` with no libvirt configured starts a private libvirt daemon in the
// data directory, defines two KVM guests and backs each up twice; the API lists them (presented as the config
// file says) with their points. The server's stop leaves no daemon, guest or socket; a later start on the same
// data directory, also after a SIGKILL, works and builds nothing again.
import assert from 'node:assert/strict';
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { EmClient, findLink } from '../helpers/em-client.js';
import { startServerProcess } from '../helpers/server-process.js';
import { daemonsOf, guestsOf, runFolderOf, until } from '../platform/kvm/libvirt-processes.js';

const exists = (p: string) => stat(p).then(() => true, () => false);
const GUESTS = ['kvm-db01', 'kvm-web01'];

/** Every VM on every hierarchy root (with the root's host type) and each VM's point types, through the API. */
async function inventory(http: string): Promise<{ vms: Record<string, string>; points: Record<string, string[]> }> {
  const c = new EmClient(http, 'xml');
  assert.equal((await c.logOn()).status, 201);
  const roots = await c.get(`${http}/api/hierarchyRoots?format=Entity`);
  const vms: Record<string, string> = {};
  for (const root of [roots.body.HierarchyRoots.HierarchyRoot].flat()) {
    const lookup = await c.get(`${http}/api/lookup?host=${encodeURIComponent(root.UID)}&name=*&type=Vm`);
    assert.equal(lookup.status, 200, lookup.text);
    for (const item of [lookup.body.HierarchyItems?.HierarchyItem ?? []].flat()) vms[String(item.ObjectName)] = String(root.HostType);
  }
  const points: Record<string, string[]> = {};
  for (const vm of Object.keys(vms).sort()) {
    const q = await c.get(`${http}/api/query?type=VmRestorePoint&format=Entities&sortAsc=CreationTime&filter=${encodeURIComponent(`VmDisplayName=="${vm}"`)}`);
    assert.equal(q.status, 200, q.text);
    const entities = [q.body.QueryResult.Entities?.VmRestorePoints?.VmRestorePoint ?? []].flat();
    for (const e of entities) assert.ok(findLink(e, 'Restore'), `a point of ${vm} can be restored`);
    points[vm] = entities.map((e: any) => String(e.PointType));
  }
  return { vms, points };
}

test('serve --demo kvm: a private libvirt daemon, two KVM guests backed up twice, listed through the API; stop leaves nothing running, and later starts (after a SIGKILL too) build nothing again', async (t) => {
  const cleanup = cleanupOf(t);
  const dataDir = tempDir(cleanup, 'openem-demo-kvm-');
  const runDir = runFolderOf(join(dataDir, 'libvirt'));
  cleanup.defer(() => rm(runDir, { recursive: true, force: true }));
  await writeFile(join(dataDir, 'openem.json'), JSON.stringify({ platforms: [{ id: 'local', kind: 'local' }, { id: 'kvm', kind: 'kvm', presentAs: 'hyperv' }] }));
  const start = async () => {
    const server = await startServerProcess({ dataDir, args: ['--demo', 'kvm'], timeoutMs: 600_000 });
    cleanup.defer(() => server.stop());
    return server;
  };
  const expected = { vms: Object.fromEntries(GUESTS.map((g) => [g, 'HyperV'])), points: Object.fromEntries(GUESTS.map((g) => [g, ['Full', 'Increment']])) };

  const first = await start();
  assert.match(first.output(), /building KVM demo guest kvm-web01/);
  assert.deepEqual(await inventory(first.http), expected, 'both guests and no other VM, on a Hyper-V root as configured, each with a Full and an Increment');
  assert.equal((await daemonsOf(runDir)).length, 1, 'the private daemon runs');
  assert.ok(await exists(join(runDir, 'run/libvirt/libvirt-sock')), 'with its own socket');
  assert.equal(await first.stop(), 0);
  assert.deepEqual(await daemonsOf(runDir), [], 'no libvirtd after the stop');
  assert.deepEqual(await guestsOf(runDir), [], 'no QEMU after the stop');
  assert.equal(await exists(runDir), false, 'no socket after the stop');

  const second = await start();
  assert.doesNotMatch(second.output(), /building KVM demo guest/, 'the guests exist: nothing is built again');
  assert.deepEqual(await inventory(second.http), expected);
  await second.kill();
  await until('the daemon has died with its server', async () => (await daemonsOf(runDir)).length === 0);
  assert.ok(await exists(join(runDir, 'run/libvirt/libvirt-sock')), 'a killed server leaves its daemon\'s socket');

  const third = await start();
  assert.deepEqual(await inventory(third.http), expected, 'a start after a SIGKILL serves the same guests');
  assert.equal(await third.stop(), 0);
  assert.deepEqual(await daemonsOf(runDir), []);
  assert.deepEqual(await guestsOf(runDir), []);
  assert.equal(await exists(runDir), false);
});
