import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { test } from 'node:test';
import { KvmLiveSource } from '../../../src/platform/kvm/kvm-live-source.js';
import { qemuIdentityOf } from '../../../src/platform/kvm/backup-folder.js';
import type { Libvirt } from '../../../src/platform/kvm/libvirt.js';

test('a live source makes its backup folder while libvirt lists the checkpoints, and removes it when the listing fails and the job never began', async (t) => {
  const uuid = randomUUID();
  // A process that looks like a domain's QEMU in /proc: argv[0] names qemu, `-uuid <uuid>` follows.
  const child = spawn('sh', ['-c', 'sleep 60', '-uuid', uuid], { argv0: 'qemu-system-test', stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  assert.deepEqual(await qemuIdentityOf(uuid), { uid: process.getuid!(), gid: process.getgid!() }, 'found among all processes');
  assert.equal(await qemuIdentityOf(randomUUID()), undefined);
  // The process found is remembered and asked first next time; one that is not the domain's QEMU (any more) is not taken.
  const known = new Map<string, number>([[uuid.toLowerCase(), process.pid]]);
  assert.deepEqual(await qemuIdentityOf(uuid.toUpperCase(), known), { uid: process.getuid!(), gid: process.getgid!() }, 'a stale process is searched past');
  assert.deepEqual([...known], [[uuid.toLowerCase(), child.pid]], 'the QEMU found is remembered');
  assert.deepEqual(await qemuIdentityOf(uuid, known), { uid: process.getuid!(), gid: process.getgid!() }, 'the remembered QEMU answers');

  let listings = 0;
  const libvirt = {
    checkpointNames: async () => {
      listings++;
      // Leaves the folder's making time to finish beside the listing.
      await new Promise((r) => setTimeout(r, 50));
      throw new Error('libvirt went away');
    },
  } as unknown as Libvirt;
  const source = await KvmLiveSource.open(libvirt, uuid, 'vda', 1 << 20, 'openem-new', '<domain/>');
  await assert.rejects(source.changeTracking.changedBlocksSince('openem-old'), /libvirt went away/);
  assert.equal(listings, 1);
  const prepared = await (source as unknown as { prepared: Promise<{ dir: string }> }).prepared;
  await access(prepared.dir);
  await source.close();
  await assert.rejects(access(prepared.dir), { code: 'ENOENT' }, 'the folder made for a job that never began is gone');
});
