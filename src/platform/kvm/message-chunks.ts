/**
 * Bytes received from a stream socket, kept as the chunks they came in, from which whole length-prefixed messages
 * are taken: a message is joined once, when all of it has come (or not copied at all when one chunk holds it), so a
 * 32 MiB message in 64 KiB chunks is copied once, not once per chunk.
 */
export class MessageChunks {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes copied to join messages that came in several chunks: at most each message's length, once. */
  copiedBytes = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The big-endian length word the next message starts with, once its 4 bytes have come. */
  nextLength(): number | undefined {
    if (this.buffered < 4) return undefined;
    const first = this.chunks[0];
    if (first.length >= 4) return first.readUInt32BE(0);
    let word = 0;
    for (let i = 0, c = 0, at = 0; i < 4; i++, at++) {
      while (at >= this.chunks[c].length) {
        c++;
        at = 0;
      }
      word = word * 256 + this.chunks[c][at];
    }
    return word;
  }

  /** The next `length` bytes when as many have come (taken off), else undefined (nothing taken). */
  take(length: number): Buffer | undefined {
    if (this.buffered < length) return undefined;
    this.buffered -= length;
    const first = this.chunks[0];
    if (first.length >= length) {
      if (first.length === length) this.chunks.shift();
      else this.chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    const out = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const c = this.chunks[0];
      const n = Math.min(c.length, length - filled);
      c.copy(out, filled, 0, n);
      filled += n;
      if (n === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(n);
    }
    this.copiedBytes += length;
    return out;
  }
}
