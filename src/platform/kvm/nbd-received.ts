/**
 * The bytes an NBD server sent that the client has not consumed yet, as the socket delivered them: joined only
 * when a header spans chunks, and a read's payload is moved straight into its target (one copy).
 */
export class NbdReceived {
  private chunks: Buffer[] = [];
  private buffered = 0;

  get length(): number {
    return this.buffered;
  }

  push(d: Buffer): void {
    this.chunks.push(d);
    this.buffered += d.length;
  }

  /** The first `n` buffered bytes (there must be as many): only the chunks holding them are joined. */
  peek(n: number): Buffer {
    if (this.chunks[0].length < n) {
      let k = 0;
      let joined = 0;
      while (joined < n) joined += this.chunks[k++].length;
      this.chunks.splice(0, k, Buffer.concat(this.chunks.slice(0, k), joined));
    }
    return this.chunks[0].subarray(0, n);
  }

  /** The first `n` buffered bytes, taken off. */
  consume(n: number): Buffer {
    const out = this.peek(n);
    this.chunks[0] = this.chunks[0].subarray(n);
    if (this.chunks[0].length === 0) this.chunks.shift();
    this.buffered -= n;
    return out;
  }

  /**
   * Moves up to `end - at` buffered bytes into `target` at `at` (dropped when `target` is undefined); where the
   * next byte goes after them.
   */
  moveInto(target: Buffer | undefined, at: number, end: number): number {
    while (at < end && this.chunks.length > 0) {
      const c = this.chunks[0];
      const n = Math.min(c.length, end - at);
      target?.set(n === c.length ? c : c.subarray(0, n), at);
      at += n;
      this.buffered -= n;
      if (n === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(n);
    }
    return at;
  }

  /** Replaces the buffered chunks that are views of `memory` (about to be reused) by copies of them. */
  detach(memory: ArrayBufferLike): void {
    for (let i = 0; i < this.chunks.length; i++) if (this.chunks[i].buffer === memory) this.chunks[i] = Buffer.from(this.chunks[i]);
  }
}
