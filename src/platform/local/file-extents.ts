import type { Extent } from '../../disks/block-source.js';
import { runHelper } from '../../host/helper-process.js';

/** Longest a `filefrag` run may take before the file is simply read whole. */
const FILEFRAG_TIMEOUT_MS = 10_000;

/**
 * Where a (sparse) file holds data, from the filesystem's extent map (FIEMAP) through e2fsprogs'
 * `filefrag -e`, since Node has no SEEK_DATA. Undefined whenever the answer is not certain (no filefrag,
 * a filesystem without FIEMAP, output not understood): the caller then reads the whole file. Extents
 * only ever over-cover: unwritten and delayed-allocation extents count as data.
 */
export async function fileDataExtents(path: string, size: number): Promise<Extent[] | undefined> {
  let out: string;
  try {
    out = (await runHelper('filefrag', ['-e', path], { timeoutMs: FILEFRAG_TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' } })).stdout;
  } catch {
    return undefined;
  }
  return parseFilefrag(out, size);
}

/** Parses `filefrag -e` output; undefined unless every line is understood. */
export function parseFilefrag(out: string, size: number): Extent[] | undefined {
  const header = /\((\d+) blocks? of (\d+) bytes\)/.exec(out);
  if (!header || !/\d+ extents? found\s*$/.test(out)) return undefined;
  const unit = Number(header[2]);
  const extents: Extent[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\d+:\s*(\d+)\.\.\s*(\d+):/.exec(line);
    if (!m) {
      if (line.trim() === '' || /^(Filesystem type is|File size of| ext:)|extents? found$/.test(line)) continue;
      return undefined;
    }
    const offset = Number(m[1]) * unit;
    const end = Math.min(size, (Number(m[2]) + 1) * unit);
    if (end > offset) extents.push({ offset, length: end - offset });
  }
  return extents;
}
