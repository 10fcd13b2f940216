import { randomBytes } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';

/** Words for compressible blocks. */
function textPool(): Buffer {
  const words = ['restore', 'point', 'backup', 'job', 'vm', 'disk', 'block', 'the', 'and', 'enterprise', 'manager', 'session'];
  const seed = randomBytes(1 << 16);
  let s = '';
  for (let i = 0; s.length < 4 * BLOCK_SIZE; i++) s += `${words[seed[i % seed.length] % words.length]}${i % 11 === 0 ? '\n' : ' '}`;
  return Buffer.from(s);
}

/**
 * The benchmarks' disk (issues #3, #4): block i is random for i%4 in {0,1}, text for 2 (unique, so text blocks do
 * not dedup against each other) and a hole for 3 — half random, a quarter compressible, a quarter zeros.
 * Writes into an existing file (a VM's sparse disk) or creates it.
 */
export async function generateBenchImage(path: string, blocks: number): Promise<void> {
  const pool = textPool();
  const fh = await open(path, 'a+').then((f) => f.close()).then(() => open(path, 'r+'));
  try {
    for (let j = 0; j < blocks; j++) {
      const kind = j % 4;
      if (kind === 3) continue;
      let b: Buffer;
      if (kind <= 1) b = randomBytes(BLOCK_SIZE);
      else {
        const start = (j * 7919) % (pool.length - BLOCK_SIZE);
        b = Buffer.from(pool.subarray(start, start + BLOCK_SIZE));
        b.write(`block ${j} `, 0);
      }
      await fh.write(b, 0, BLOCK_SIZE, j * BLOCK_SIZE);
    }
    await fh.truncate(blocks * BLOCK_SIZE);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Rewrites every 100th block with random bytes: 1% of the blocks change. */
export async function changeOnePercent(path: string, blocks: number): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    for (let i = 0; i < blocks; i += 100) await fh.write(randomBytes(BLOCK_SIZE), 0, BLOCK_SIZE, i * BLOCK_SIZE);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The FLR benches' guest tree (ext4 and NTFS alike): 1 GiB of random data in `big.bin` and a folder of 10,000 small files. */
export async function flrGuestTree(dir: string): Promise<void> {
  const GiB = 1024 ** 3;
  const fh = await open(join(dir, 'big.bin'), 'w');
  const chunk = randomBytes(8 * 1024 ** 2);
  for (let off = 0; off < GiB; off += chunk.length) await fh.write(chunk, 0, chunk.length, off);
  await fh.close();
  await mkdir(join(dir, 'many'));
  for (let i = 0; i < 10_000; i++) await writeFile(join(dir, 'many', `file-${String(i).padStart(5, '0')}.txt`), `entry ${i}\n`);
}
