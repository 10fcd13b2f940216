import { open } from 'node:fs/promises';
import { OpenemError } from '../../errors.js';

const QCOW2_MAGIC = 0x514649fb;
const CLUSTER_BITS = 16;
const CLUSTER = 1 << CLUSTER_BITS;
/** A v3 header without the optional fields after refcount_order/header_length (qcow2.txt: 104 bytes at least). */
const HEADER_LENGTH = 104;
/** 16-bit refcounts (refcount_order 4), as qemu-img makes them. */
const REFCOUNT_ORDER = 4;

/** Who QEMU runs as: the scratch file is theirs, for nobody else to read (it holds the guest's old data). */
export interface ScratchOwner {
  uid: number;
  gid: number;
}

/**
 * Creates an empty qcow2 image of `size` virtual bytes at `path` (which must not exist), laid out as `qemu-img
 * create -f qcow2` lays one out (QEMU's docs/interop/qcow2.txt): the header in cluster 0, the refcount table in
 * cluster 1, its one refcount block in cluster 2, the L1 table (all zeros: nothing allocated) from cluster 3. A
 * pull backup's scratch file made so is handed to libvirt with backup-begin's REUSE_EXTERNAL: libvirt then
 * attaches it instead of creating it with a blockdev-create job of QEMU's (a job, its events and its dismissal
 * inside backup-begin). No backing file is named: libvirt attaches the scratch with the live disk as its backing.
 */
export async function createScratchQcow2(path: string, size: number, owner: ScratchOwner): Promise<void> {
  const l1Entries = Math.max(1, Math.ceil(size / (CLUSTER * (CLUSTER / 8))));
  const l1Clusters = Math.ceil((l1Entries * 8) / CLUSTER);
  const clusters = 3 + l1Clusters;
  const head = Buffer.alloc(3 * CLUSTER);
  head.writeUInt32BE(QCOW2_MAGIC, 0);
  head.writeUInt32BE(3, 4);
  head.writeUInt32BE(CLUSTER_BITS, 20);
  head.writeBigUInt64BE(BigInt(size), 24);
  head.writeUInt32BE(l1Entries, 36);
  head.writeBigUInt64BE(BigInt(3 * CLUSTER), 40);
  head.writeBigUInt64BE(BigInt(CLUSTER), 48);
  head.writeUInt32BE(1, 56);
  head.writeUInt32BE(REFCOUNT_ORDER, 96);
  head.writeUInt32BE(HEADER_LENGTH, 100);
  // Cluster 1: the refcount table's one entry, the refcount block's offset; cluster 2: a refcount of 1 for each used cluster.
  head.writeBigUInt64BE(BigInt(2 * CLUSTER), CLUSTER);
  for (let c = 0; c < clusters; c++) head.writeUInt16BE(1, 2 * CLUSTER + 2 * c);
  // 'wx': a file already there (planted) is refused, not written through.
  const fh = await open(path, 'wx', 0o600).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'EEXIST') throw new OpenemError('UNAVAILABLE', `the backup's scratch file ${path} already exists: refusing to start a backup job on it`, { cause: e });
    throw e;
  });
  try {
    await fh.write(head, 0, head.length, 0);
    await fh.truncate(clusters * CLUSTER);
    await fh.chown(owner.uid, owner.gid);
  } finally {
    await fh.close();
  }
}
