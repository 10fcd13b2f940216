/**
 * Guest file restore, the write side: a 512 MiB file and a folder of 2,000 small files written into an ext4
 * image through fuse2fs (Fuse2fsWriter: mount, write beside, rename, unmount, e2fsck -fn), against the mechanism
 * it replaced in the same run — a `debugfs -w` batch writing the same bytes from host files, then e2fsck -fn
 * (the baseline does not count the staging copy into the data dir that the old path also needed).
 * Goal (issue 9 §7): the file >= 0.5x the debugfs throughput; the small files >= 0.25x.
 * Usage: node --import tsx bench/guest-write.ts     (never part of npm test)
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { Fuse2fsWriter } from '../src/guestfs/ext4/fuse2fs-writer.js';
import type { GuestItem } from '../src/guestfs/guest-writer.js';
import { reportResult } from './support/bench-result.js';

const MiB = 1024 ** 2;
const FILE_BYTES = 512 * MiB;
const SMALL_FILES = 2000;
const attrs = { mode: 0o644, uid: 0, gid: 0, mtime: new Date('2024-01-01T00:00:00Z') };

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 3).join(' ')} failed: ${r.stderr}`);
}

function freshImage(path: string): void {
  run('mke2fs', ['-q', '-F', '-t', 'ext4', '-b', '4096', path, '2G']);
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'openem-bench-guest-write-'));
  try {
    const chunk = randomBytes(8 * MiB);
    const big: GuestItem = {
      type: 'file', name: Buffer.from('big.bin'), attrs, size: FILE_BYTES, dataRanges: [{ start: 0, end: FILE_BYTES }],
      read: async (r) => Readable.from((function* () { for (let o = r.start; o < r.end; o += chunk.length) yield chunk; })()),
    };
    const small: GuestItem = {
      type: 'dir', name: Buffer.from('many'), attrs: { ...attrs, mode: 0o755 },
      children: Array.from({ length: SMALL_FILES }, (_, i) => {
        const data = Buffer.from(`entry ${i}\n`);
        return { type: 'file' as const, name: Buffer.from(`file-${i}.txt`), attrs, size: data.length, dataRanges: [{ start: 0, end: data.length }], read: async () => Readable.from([data]) };
      }),
    };

    // Ours.
    const image = join(work, 'ours.img');
    freshImage(image);
    const writer = new Fuse2fsWriter({ imagePath: image, offset: 0, workRoot: join(work, 'flr-work') });
    let t = performance.now();
    await writer.write({ parent: [], item: big, onExisting: 'replace' });
    const oursBigS = (performance.now() - t) / 1000;
    t = performance.now();
    await writer.write({ parent: [], item: small, onExisting: 'replace' });
    const oursSmallS = (performance.now() - t) / 1000;

    // The debugfs batch it replaced, from host files.
    const host = join(work, 'host');
    await mkdir(join(host, 'many'), { recursive: true });
    const fh = await open(join(host, 'big.bin'), 'w');
    for (let o = 0; o < FILE_BYTES; o += chunk.length) await fh.write(chunk, 0, chunk.length, o);
    await fh.close();
    const commands = ['mkdir /many'];
    for (let i = 0; i < SMALL_FILES; i++) {
      await writeFile(join(host, 'many', `file-${i}.txt`), `entry ${i}\n`);
      commands.push(`write ${join(host, 'many', `file-${i}.txt`)} /many/file-${i}.txt`);
    }
    await writeFile(join(work, 'small.cmds'), commands.join('\n') + '\n');
    const theirs = join(work, 'debugfs.img');
    freshImage(theirs);
    t = performance.now();
    run('debugfs', ['-w', '-R', `write ${join(host, 'big.bin')} /big.bin`, theirs]);
    run('e2fsck', ['-fn', theirs]);
    const debugfsBigS = (performance.now() - t) / 1000;
    t = performance.now();
    run('debugfs', ['-w', '-f', join(work, 'small.cmds'), theirs]);
    run('e2fsck', ['-fn', theirs]);
    const debugfsSmallS = (performance.now() - t) / 1000;

    const mbps = (s: number) => (FILE_BYTES / MiB / s).toFixed(0);
    console.log(`512 MiB file through fuse2fs:    ${mbps(oursBigS)} MiB/s (${oursBigS.toFixed(2)} s with mount, unmount, e2fsck)`);
    console.log(`512 MiB file with debugfs write: ${mbps(debugfsBigS)} MiB/s (${debugfsBigS.toFixed(2)} s with e2fsck)`);
    console.log(`${SMALL_FILES} small files through fuse2fs: ${oursSmallS.toFixed(2)} s; debugfs batch: ${debugfsSmallS.toFixed(2)} s`);
    reportResult('guest write 512 MiB file vs debugfs', debugfsBigS / oursBigS, '>=', 0.5, { baseline: 'debugfs -w write + e2fsck, same run' });
    reportResult(`guest write ${SMALL_FILES} small files vs debugfs`, debugfsSmallS / oursSmallS, '>=', 0.25, { baseline: 'debugfs -w batch + e2fsck, same run' });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

await main();
