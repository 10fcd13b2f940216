import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenemError } from '../../errors.js';
import { spawnHelper, type HelperProcess } from '../../host/helper-process.js';
import type { Extent } from '../../disks/block-source.js';
import { formatArgs } from './qcow2-bitmaps.js';
import type { NbdClient } from './nbd-client.js';

/** An image served over NBD on a private Unix socket by a qemu-nbd this process started (bound to its life). */
export interface NbdExport {
  socket: string;
  exportName: string;
  stop(): Promise<void>;
}

export const EXPORT_NAME = 'disk';

/**
 * Serves `image` (`format`: qcow2 or raw) with qemu-nbd; `bitmap` also exports that persistent dirty bitmap as
 * the `qemu:dirty-bitmap:<name>` metadata context. Read-only exports share the image with other readers.
 */
export async function serveImage(image: string, format: string, options: { writable: boolean; bitmap?: string }): Promise<NbdExport> {
  const dir = await mkdtemp(join(tmpdir(), 'openem-nbd-'));
  const socket = join(dir, 'nbd.sock');
  const args = ['--persistent', '--shared=0', '-k', socket, '-x', EXPORT_NAME, ...formatArgs(format), '--cache=none', '--aio=threads'];
  if (!options.writable) args.push('--read-only');
  else args.push('--discard=unmap', '--detect-zeroes=unmap');
  if (options.bitmap) args.push('-B', options.bitmap);
  args.push('--', image);
  let helper: HelperProcess;
  try {
    helper = await spawnHelper('qemu-nbd', args, { debianPackage: 'qemu-utils' });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  let stderr = '';
  helper.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const stop = async () => {
    await helper.stop();
    await rm(dir, { recursive: true, force: true });
  };
  // qemu-nbd binds and listens on the socket before it opens the image, so a socket file proves nothing: an image
  // it cannot open (another process holds its lock) leaves a socket nobody listens on. Ready means qemu-nbd
  // greets a probe connection, closed at once (the export is --persistent and --shared=0, so it stays up).
  const started = Date.now();
  const deadline = started + 10_000;
  for (;;) {
    if (await greets(socket)) break;
    const exited = helper.child.exitCode !== null || helper.child.signalCode !== null;
    if (exited || Date.now() > deadline) {
      if (exited) await helper.exited;
      await stop();
      throw new OpenemError('UNAVAILABLE', `qemu-nbd could not serve ${image}: ${stderr.trim() || (exited ? 'it exited' : 'not serving within 10 s')}`);
    }
    // qemu-nbd greets within about 10 ms of its start here: asked every 2 ms at first, so a rollback's or a
    // mount's opening does not wait a long poll interval out; after 200 ms, every 20 ms.
    await new Promise((r) => setTimeout(r, Date.now() - started < 200 ? 2 : 20));
  }
  return { socket, exportName: EXPORT_NAME, stop };
}

/**
 * The extents of metadata context `context` (`base:allocation`, `qemu:dirty-bitmap:<name>`, one `client` was
 * opened with) that `select` picks by their flags (base:allocation: 2 = reads as zero; a dirty bitmap: 1 = dirty),
 * adjacent ones merged. Asked over the client's own connection: no process is started for it.
 */
export async function mapExtents(client: NbdClient, context: string, select: (type: number) => boolean): Promise<Extent[]> {
  const out: Extent[] = [];
  for (const row of await client.blockStatus(context)) {
    if (!select(row.type) || row.length === 0) continue;
    const last = out[out.length - 1];
    if (last && last.offset + last.length === row.offset) last.length += row.length;
    else out.push({ offset: row.offset, length: row.length });
  }
  return out;
}

/**
 * Whether an NBD server on Unix socket `path` greets a connection now. The kernel completes a connect on a
 * listening socket before the server accepts it, so only the server's first bytes (its NBDMAGIC greeting, sent once
 * it has opened the image and entered its loop) tell that it serves.
 */
function greets(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2000, () => done(false));
    s.once('data', () => done(true));
    s.once('error', () => done(false));
    s.once('close', () => done(false));
  });
}
