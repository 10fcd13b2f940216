// Issue #13, not verified before: `serve --demo kvm` with the config file presenting the kvm platform as Cloud
// Director, seen through /api by a v1_4 client: the guests are VMs of a VcdSystem root found through the lookup
// service (urn:vCloud:Vm references), on the libvirt pool as a datastore, each with its Full and Increment points.
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';
import { EmClient, findLink } from '../helpers/em-client.js';
import { startServerProcess } from '../helpers/server-process.js';
import { daemonsOf, runFolderOf } from '../platform/kvm/libvirt-processes.js';
import { lookUp } from './kvm-vcloud-lookup.js';

test('serve --demo kvm presented as Cloud Director: a v1_4 client finds both guests on a VcdSystem root through the lookup service, each with a Full and an Increment', async (t) => {
  const cleanup = cleanupOf(t);
  const dataDir = tempDir(cleanup, 'openem-demo-kvm-vcd-');
  const runDir = runFolderOf(join(dataDir, 'libvirt'));
  cleanup.defer(() => rm(runDir, { recursive: true, force: true }));
  await writeFile(join(dataDir, 'openem.json'), JSON.stringify({ platforms: [{ id: 'kvm', kind: 'kvm', presentAs: 'vcloud' }] }));
  const server = await startServerProcess({ dataDir, args: ['--demo', 'kvm'], timeoutMs: 600_000 });
  cleanup.defer(() => server.stop());

  for (const format of ['xml', 'json'] as const) {
    const c = new EmClient(server.http, format);
    for (const vm of ['kvm-web01', 'kvm-db01']) {
      await lookUp(c, format, server.http, vm);
      const q = await c.get(`${server.http}/api/query?type=VmRestorePoint&format=Entities&sortAsc=CreationTime&filter=${encodeURIComponent(`VmDisplayName=="${vm}"`)}`);
      assert.equal(q.status, 200, q.text);
      const points: any[] = format === 'json' ? q.body.Entities.VmRestorePoints.VmRestorePoints : [q.body.QueryResult.Entities?.VmRestorePoints?.VmRestorePoint ?? []].flat();
      assert.deepEqual(points.map((p: any) => String(p.PointType)), ['Full', 'Increment'], `${vm}'s points (${format})`);
      for (const p of points) assert.ok(findLink(p, 'Restore'), `a point of ${vm} can be restored (${format})`);
    }
  }
  assert.equal(await server.stop(), 0);
  assert.deepEqual(await daemonsOf(runDir), [], 'no libvirtd after the stop');
});
