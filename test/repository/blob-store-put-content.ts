/**
 * The object the crashing writer of the blob store contract puts: `mib` MiB, each MiB filled with a pattern of its
 * own derived from `seed`, so a mix of old and new or a cut-off object never equals it.
 */
export function putChildContent(mib: number, seed: number): Buffer {
  const out = Buffer.alloc(mib * 1024 * 1024);
  for (let i = 0; i < mib; i++) {
    const block = out.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024);
    for (let j = 0; j < block.length; j += 4) block.writeUInt32LE((seed + i * 2654435761 + j) >>> 0, j);
  }
  return out;
}
