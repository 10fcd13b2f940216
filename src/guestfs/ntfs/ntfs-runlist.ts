import { corrupt } from '../../errors.js';

/** Clusters [vcn, vcn + length) of an attribute at volume cluster `lcn`, or a hole (`lcn` undefined: sparse). */
export interface NtfsRun {
  vcn: number;
  length: number;
  lcn?: number;
}

function readSigned(b: Buffer, at: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + i];
  return b[at + n - 1] & 0x80 ? v - 2 ** (8 * n) : v;
}

function readUnsigned(b: Buffer, at: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + i];
  return v;
}

/**
 * Decodes a mapping-pairs array (a runlist) starting at `vcn`. Every run must lie inside the volume
 * (`totalClusters`) and the runs must end by `lastVcn + 1`, so a hostile runlist cannot point outside the volume or
 * make a file bigger than its attribute says. Each run costs at least two bytes of `b`, which bounds the loop.
 */
export function decodeRunlist(b: Buffer, start: number, end: number, vcn: number, lastVcn: number, totalClusters: number): NtfsRun[] {
  const runs: NtfsRun[] = [];
  let at = start;
  let lcn = 0;
  while (at < end) {
    const header = b[at];
    if (header === 0) break;
    const lengthBytes = header & 0x0f;
    const offsetBytes = header >> 4;
    if (lengthBytes === 0 || lengthBytes > 8 || offsetBytes > 8 || at + 1 + lengthBytes + offsetBytes > end) {
      throw corrupt(`NTFS runlist has an invalid run header 0x${header.toString(16)}`);
    }
    const length = readUnsigned(b, at + 1, lengthBytes);
    if (length <= 0 || vcn + length > lastVcn + 1 || !Number.isSafeInteger(vcn + length)) {
      throw corrupt(`NTFS run of ${length} clusters at VCN ${vcn} goes past the attribute's last VCN ${lastVcn}`);
    }
    if (offsetBytes === 0) runs.push({ vcn, length });
    else {
      lcn += readSigned(b, at + 1 + lengthBytes, offsetBytes);
      if (lcn < 0 || lcn + length > totalClusters) throw corrupt(`NTFS run at cluster ${lcn} (+${length}) lies outside the volume`);
      runs.push({ vcn, length, lcn });
    }
    vcn += length;
    at += 1 + lengthBytes + offsetBytes;
  }
  return runs;
}
