import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { writeGptWithSinglePartition } from '../../../src/disks/gpt-writer.js';
import { Fuse2fsWriter } from '../../../src/guestfs/ext4/fuse2fs-writer.js';
import type { GuestItem } from '../../../src/guestfs/guest-writer.js';
import { makeImage, sh, tempDir } from '../fixtures/ext4-images.js';
import { ATTRS } from '../fixtures/guest-snapshot.js';

const MiB = 1024 * 1024;
const OFFSET = MiB;

/** The processes whose command line names `workRoot` (the fuse2fs daemon of a write under it). */
function helpersUnder(workRoot: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(workRoot);
    } catch {
      return false;
    }
  });
}

/** A file whose bytes kill the fuse2fs daemon after the first chunk, as a crash of fuse2fs mid-write would. */
function fileThatKillsFuse2fs(workRoot: string, size: number): GuestItem {
  return {
    type: 'file',
    name: Buffer.from('big'),
    attrs: ATTRS,
    size,
    dataRanges: [{ start: 0, end: size }],
    read: async () => {
      let chunks = 0;
      return new Readable({
        read() {
          if (chunks++ === 1) for (const pid of helpersUnder(workRoot)) process.kill(pid, 'SIGKILL');
          if (chunks > size / MiB) this.push(null);
          else this.push(Buffer.alloc(MiB, 7));
        },
      });
    },
  };
}

test('when fuse2fs dies mid-write, the write fails and leaves no mount, no process and no folder', async (t) => {
  const dir = tempDir(t);
  sh(`mkdir -p root/etc && echo 'old=1' > root/etc/app.conf`, dir);
  const disk = join(dir, 'disk.img');
  makeImage(disk, join(dir, 'root'), { size: '30M', offset: OFFSET, mkfsArgs: ['-I', '256', '-b', '4096'] });
  await writeGptWithSinglePartition(disk, OFFSET + 31 * MiB, OFFSET, 30 * MiB, 'root');
  const workRoot = join(dir, 'flr-work');
  const writer = new Fuse2fsWriter({ imagePath: disk, offset: OFFSET, workRoot });

  await assert.rejects(writer.write({ parent: [Buffer.from('etc')], item: fileThatKillsFuse2fs(workRoot, 8 * MiB), onExisting: 'replace' }));

  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(workRoot), 'no mount left under the work root');
  assert.deepEqual(helpersUnder(workRoot), [], 'no fuse2fs process left');
  assert.deepEqual(readdirSync(workRoot), [], 'no work folder left');
});
