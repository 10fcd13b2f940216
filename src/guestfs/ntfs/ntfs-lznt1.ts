import { corrupt } from '../../errors.js';

const CHUNK = 4096;

/**
 * Decompresses one LZNT1 compression unit into `out` (its length is the unit's size). LZNT1 is a sequence of chunks
 * of at most 4 KiB each, stored raw or as LZ77 tokens whose offset/length split depends on the position in the
 * chunk. A back-reference before the chunk's start or a chunk running past the input is CORRUPT; output never
 * grows past `out`, and every token consumes input, so a hostile unit can neither overflow nor loop.
 */
export function decompressLznt1(input: Buffer, out: Buffer): void {
  let inPos = 0;
  let outPos = 0;
  while (inPos + 2 <= input.length && outPos < out.length) {
    const header = input.readUInt16LE(inPos);
    if (header === 0) break;
    const chunkEnd = inPos + 2 + (header & 0x0fff) + 1;
    if (chunkEnd > input.length) throw corrupt('NTFS compressed data has a chunk past the end of its unit');
    inPos += 2;
    const chunkStart = outPos;
    const chunkLimit = Math.min(out.length, chunkStart + CHUNK);
    if ((header & 0x8000) === 0) {
      const n = Math.min(chunkEnd - inPos, chunkLimit - outPos);
      input.copy(out, outPos, inPos, inPos + n);
      outPos += n;
      inPos = chunkEnd;
      continue;
    }
    while (inPos < chunkEnd && outPos < chunkLimit) {
      const tags = input[inPos++];
      for (let bit = 0; bit < 8 && inPos < chunkEnd && outPos < chunkLimit; bit++) {
        if ((tags & (1 << bit)) === 0) {
          out[outPos++] = input[inPos++];
          continue;
        }
        if (inPos + 2 > chunkEnd) throw corrupt('NTFS compressed data has a truncated back-reference');
        const token = input.readUInt16LE(inPos);
        inPos += 2;
        let lengthBits = 12;
        for (let i = outPos - chunkStart - 1; i >= 0x10; i >>= 1) lengthBits--;
        const back = (token >>> lengthBits) + 1;
        let length = (token & ((1 << lengthBits) - 1)) + 3;
        if (outPos - back < chunkStart) throw corrupt('NTFS compressed data refers back before its chunk');
        length = Math.min(length, chunkLimit - outPos);
        // Byte by byte: a reference may overlap what it writes (a run of one repeated byte).
        for (let i = 0; i < length; i++, outPos++) out[outPos] = out[outPos - back];
      }
    }
    inPos = chunkEnd;
    // A compressed chunk always stands for 4 KiB: what its tokens leave out reads as zeros.
    outPos = chunkLimit;
  }
}
