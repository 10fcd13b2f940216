import { BLOCK_SIZE, type BlockSource, type Extent } from '../disks/block-source.js';
import { conflict, corrupt } from '../errors.js';
import type { Range } from './block-codec-messages.js';
import type { BlockCodecPool } from './block-codec-pool.js';
import type { ManifestStore } from './manifest-store.js';
import type { PackIndex } from './pack-index.js';
import type { PackWriter } from './pack-writer.js';
import type { BackupProgress, BackupStats, BackupWriter, DiskManifest, RestorePointManifest } from './repository.js';
import { SourceChunkReader, type SourceChunk } from './source-chunk-reader.js';
import { asStorageError } from './storage-errors.js';
import type { HeldLease } from './repository-leases.js';

export interface BackupWriterDeps {
  location: string;
  pool: BlockCodecPool;
  packs: PackWriter;
  index: PackIndex;
  manifests: ManifestStore;
  /** The repository's lease for this VM's backup, released when the backup commits or aborts. */
  lease: HeldLease;
  compressionLevel: number;
  onFinished: () => void;
}

/**
 * One backup of one VM: reads each disk sequentially with read-ahead, hashes and detects zero blocks on
 * the codec workers, compresses only blocks the repository does not hold yet, and appends them to packs.
 * `commit` makes the packs durable and then, last, writes the manifest.
 */
export class RepositoryBackupWriter implements BackupWriter {
  private readonly disks: DiskManifest[] = [];
  private readonly stats: BackupStats = { blocksTotal: 0, blocksZero: 0, blocksNew: 0, bytesRead: 0, bytesStored: 0 };
  private finished = false;
  /** Set when a disk failed half way: such a backup can only be aborted. */
  private broken = false;

  constructor(private readonly deps: BackupWriterDeps) {}

  async addDisk(
    name: string,
    source: BlockSource,
    options: { previous?: DiskManifest; signal?: AbortSignal; onProgress?: (p: BackupProgress) => void; onNote?: (text: string) => void } = {},
  ): Promise<DiskManifest> {
    this.assertOpen();
    if (this.disks.some((d) => d.name === name)) throw conflict(`disk ${name} was already added to this backup`);
    const progress: BackupProgress = { diskName: name, bytesDone: 0, bytesTotal: source.size, bytesNew: 0 };
    let disk: DiskManifest;
    try {
      const plan = await readPlan(source, options.previous);
      if (plan.chainBroken) options.onNote?.(`Disk ${name}: changed-block tracking cannot count from the previous restore point (${plan.chainBroken}); the disk was read in full`);
      const blocks = plan.carried ?? new Array<string | null>(Math.ceil(source.size / BLOCK_SIZE)).fill(null);
      const reader = new SourceChunkReader(source, this.deps.pool.size * 2 + 2, plan.extents);
      const read = await this.readBlocks(reader, blocks, progress, options);
      // Blocks not read are holes, or (with CBT) unchanged since the previous point: done, and counted as such.
      this.stats.blocksTotal += blocks.length - read.blocks;
      for (let i = 0; i < blocks.length; i++) if (!read.seen[i] && blocks[i] === null) this.stats.blocksZero++;
      if (progress.bytesDone < source.size) {
        progress.bytesDone = source.size;
        options.onProgress?.({ ...progress });
      }
      disk = { name, size: source.size, blocks, ...(plan.checkpoint !== undefined ? { checkpoint: plan.checkpoint } : {}) };
    } catch (e) {
      this.broken = true;
      throw asStorageError(e, this.deps.location);
    }
    this.disks.push(disk);
    return disk;
  }

  private async readBlocks(
    reader: SourceChunkReader,
    blocks: (string | null)[],
    progress: BackupProgress,
    options: { signal?: AbortSignal; onProgress?: (p: BackupProgress) => void },
  ): Promise<{ blocks: number; seen: Uint8Array }> {
    const seen = new Uint8Array(blocks.length);
    let count = 0;
    await reader.forEachChunk(async (chunk) => {
      seen.fill(1, chunk.firstBlock, chunk.firstBlock + chunk.blockCount);
      count += chunk.blockCount;
      await this.processChunk(chunk, blocks, progress, options.onProgress);
    }, options.signal);
    return { blocks: count, seen };
  }

  private async processChunk(
    chunk: SourceChunk,
    blocks: (string | null)[],
    progress: BackupProgress,
    onProgress?: (p: BackupProgress) => void,
  ): Promise<void> {
    const ranges: Range[] = [];
    for (let i = 0; i < chunk.blockCount; i++) {
      const off = i * BLOCK_SIZE;
      ranges.push([off, Math.min(BLOCK_SIZE, chunk.byteLength - off)]);
    }
    const hashes = await this.deps.pool.hash(chunk.buf, ranges, true);
    const wanted: Range[] = [];
    const wantedHashes: string[] = [];
    for (let i = 0; i < hashes.length; i++) {
      const h = hashes[i];
      blocks[chunk.firstBlock + i] = h;
      this.stats.blocksTotal++;
      if (h === null) this.stats.blocksZero++;
      else if (this.deps.packs.claim(h)) {
        wanted.push(ranges[i]);
        wantedHashes.push(h);
      }
    }
    if (wanted.length > 0) {
      const encoded = await this.deps.pool.compress(chunk.buf, wanted, this.deps.compressionLevel);
      for (let i = 0; i < encoded.length; i++) {
        const e = encoded[i];
        // The stored bytes, in the chunk's buffer where the worker left them; the pack copies them.
        const data = Buffer.from(chunk.buf, wanted[i][0], e.length);
        this.stats.blocksNew++;
        this.stats.bytesStored += data.length;
        progress.bytesNew += wanted[i][1];
        await this.deps.packs.add(wantedHashes[i], data, wanted[i][1], e.compression);
      }
    }
    this.stats.bytesRead += chunk.byteLength;
    progress.bytesDone += chunk.byteLength;
    onProgress?.({ ...progress });
  }

  async commit(fields: Omit<RestorePointManifest, 'formatVersion' | 'disks'>): Promise<{ manifest: RestorePointManifest; stats: BackupStats }> {
    this.assertOpen();
    if (this.broken) throw conflict('a disk of this backup failed; abort it');
    try {
      await this.deps.packs.flush();
      // Every block the manifest names must be indexed (dedup relied on the index; gc is excluded while we run).
      for (const d of this.disks) {
        for (const h of d.blocks) if (h !== null && !this.deps.index.has(h)) throw corrupt(`block ${h} of disk ${d.name} is not in the repository index`);
      }
      // Still ours? A lease lost to missed heartbeats may have let gc delete the packs just written.
      await this.deps.lease.confirm();
      const manifest: RestorePointManifest = { formatVersion: 1, ...fields, disks: this.disks };
      // What readManifest will return: JSON has no undefined fields.
      for (const k of Object.keys(manifest) as (keyof RestorePointManifest)[]) if (manifest[k] === undefined) delete manifest[k];
      await this.deps.manifests.write(manifest);
      await this.finish();
      return { manifest, stats: { ...this.stats } };
    } catch (e) {
      await this.abort();
      throw asStorageError(e, this.deps.location);
    }
  }

  async abort(): Promise<void> {
    if (this.finished) return;
    await this.deps.packs.discard();
    await this.finish();
  }

  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.deps.onFinished();
    await this.deps.lease.release();
  }

  private assertOpen(): void {
    if (this.finished) throw conflict('this backup was already committed or aborted');
  }
}

/**
 * What a backup of `source` reads: with CBT and a previous point at a checkpoint, only what changed since; else
 * every allocated extent, and why CBT could not be used when the previous point had a checkpoint (`chainBroken`).
 */
async function readPlan(
  source: BlockSource,
  previous: DiskManifest | undefined,
): Promise<{ extents: Extent[]; carried?: (string | null)[]; checkpoint?: string; chainBroken?: string }> {
  const tracking = source.changeTracking;
  const checkpoint = tracking?.checkpoint;
  let chainBroken: string | undefined;
  if (previous?.checkpoint !== undefined) {
    if (!tracking) chainBroken = 'the disk has no changed-block tracking now';
    else if (previous.size !== source.size) chainBroken = `the disk was ${previous.size} bytes then and is ${source.size} now`;
    else {
      const changed = await tracking.changedBlocksSince(previous.checkpoint);
      // The blocks outside the changed extents are the previous point's; commit checks the index still holds them.
      if (Array.isArray(changed)) return { extents: changed, carried: [...previous.blocks], checkpoint };
      chainBroken = changed.broken;
    }
  }
  return { extents: await source.allocatedExtents(), checkpoint, ...(chainBroken ? { chainBroken } : {}) };
}
