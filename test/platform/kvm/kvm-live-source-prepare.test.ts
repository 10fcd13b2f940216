import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import { test } from 'node:test';
import { KvmLiveSource } from '../../../src/platform/kvm/kvm-live-source.js';
import { qemuIdentityOf } from '../../../src/platform/kvm/backup-folder.js';
import type { Libvirt } from '../../../src/platform/kvm/libvirt.js';

test('an incremental live source begins its job at once and lists the checkpoints only when libvirt refuses it: a lost checkpoint is a chain break and a full job, any other refusal is thrown and its folder is gone', async (t) => {
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

  // A libvirt that refuses every backup job (the reason `refusal` gives), with checkpoints `listed`.
  const refusing = (listed: string[] | Error, refusal: (n: number) => string) => {
    const calls = { listings: 0, begins: [] as string[], dirs: [] as string[] };
    const libvirt = {
      checkpointNames: async () => {
        calls.listings++;
        if (listed instanceof Error) throw listed;
        return listed;
      },
      backupBegin: async (_uuid: string, backupXml: string) => {
        calls.begins.push(backupXml);
        const dir = /socket='([^']+)\/[^'/]+'/.exec(backupXml)![1];
        await access(dir);
        calls.dirs.push(dir);
        throw new Error(refusal(calls.begins.length));
      },
    } as unknown as Libvirt;
    return { libvirt, calls };
  };

  // Checkpoint openem-old is gone: libvirt refuses the incremental job, the listing says why, a full job begins.
  const lost = refusing(['openem-other'], (n) => (n === 1 ? "Domain checkpoint not found: no domain checkpoint with matching name 'openem-old'" : 'the full job stops here'));
  const source = await KvmLiveSource.open(lost.libvirt, uuid, 'vda', 1 << 20, 'openem-new', '<domain/>');
  await assert.rejects(source.changeTracking.changedBlocksSince('openem-old'), /the full job stops here/);
  assert.equal(lost.calls.listings, 1, 'listed once, after the refusal');
  assert.equal(lost.calls.begins.length, 2);
  assert.match(lost.calls.begins[0], /<incremental>openem-old<\/incremental>/, 'the first job counts from the checkpoint asked for');
  assert.doesNotMatch(lost.calls.begins[1], /<incremental>/, 'the second is a full job');
  assert.notEqual(lost.calls.dirs[0], lost.calls.dirs[1], 'in a fresh folder');
  await source.close();
  for (const dir of lost.calls.dirs) await assert.rejects(access(dir), { code: 'ENOENT' }, 'the folders of jobs that never began are gone');

  // The checkpoint is there and libvirt refuses for another reason: that reason is thrown, no second job.
  const busy = refusing(['openem-old'], () => 'Operation not supported: another job is running');
  const second = await KvmLiveSource.open(busy.libvirt, uuid, 'vda', 1 << 20, 'openem-new', '<domain/>');
  await assert.rejects(second.changeTracking.changedBlocksSince('openem-old'), /another job/);
  assert.deepEqual([busy.calls.listings, busy.calls.begins.length], [1, 1]);
  await second.close();
  await assert.rejects(access(busy.calls.dirs[0]), { code: 'ENOENT' }, 'the refused job\'s folder is gone');

  // libvirt went away: the refusal is thrown even though nothing could be listed.
  const gone = refusing(new Error('libvirt went away'), () => 'cannot reach libvirt');
  const third = await KvmLiveSource.open(gone.libvirt, uuid, 'vda', 1 << 20, 'openem-new', '<domain/>');
  await assert.rejects(third.changeTracking.changedBlocksSince('openem-old'), /cannot reach libvirt/);
  await third.close();
  await assert.rejects(access(gone.calls.dirs[0]), { code: 'ENOENT' }, 'its folder is gone');
});
