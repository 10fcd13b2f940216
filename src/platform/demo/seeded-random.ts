import { createCipheriv, createHash, type Cipher } from 'node:crypto';

const POOL = 64 * 1024;

/**
 * A deterministic random stream: AES-128-CTR keyed by a hash of the seed. The same seed gives the same
 * bytes on every machine and Node version, so tests can regenerate a demo VM's expected files, and
 * bulk bytes come at cipher speed rather than one JS call per word.
 */
export class SeededRandom {
  private readonly cipher: Cipher;
  private pool: Buffer = Buffer.alloc(0);
  private at = 0;

  constructor(seed: string) {
    const key = createHash('sha256').update(seed).digest().subarray(0, 16);
    this.cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  }

  /** `n` random bytes (a fresh buffer). */
  bytes(n: number): Buffer {
    return this.cipher.update(Buffer.alloc(n));
  }

  private uint32(): number {
    if (this.at + 4 > this.pool.length) {
      this.pool = this.bytes(POOL);
      this.at = 0;
    }
    const v = this.pool.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  /** An integer in [0, max). */
  int(max: number): number {
    return Math.floor((this.uint32() / 2 ** 32) * max);
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}
