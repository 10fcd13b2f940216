import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { posixModeOf, type GuestEntry, type GuestFilesystem } from '../../guestfs/guest-filesystem.js';
import { guestParentAndName } from '../../guestfs/guest-path.js';

/**
 * A guest folder as a tar stream (issue #5 §2: "a folder as an archive, streamed"). Files are read one at a time
 * through the block reader and piped into the archive, so memory stays flat whatever the folder holds; names are
 * relative to the folder's parent (`nginx/nginx.conf` for `/etc/nginx`). tar-stream writes PAX headers for long
 * or non-ASCII names.
 */
export function guestFolderArchive(fs: GuestFilesystem, folder: GuestEntry, onEntry: () => void = () => undefined): Readable {
  const pack = tar.pack();
  const base = guestParentAndName(folder.path).name || 'root';
  const nameOf = (e: GuestEntry) => base + e.path.slice(folder.path === '/' ? 0 : folder.path.length);
  const header = (e: GuestEntry) => ({ name: nameOf(e), mode: posixModeOf(e) & 0o7777, uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime });

  void (async () => {
    pack.entry({ ...header(folder), name: base, type: 'directory' });
    for await (const e of fs.walk(folder.path)) {
      onEntry();
      if (e.type === 'dir') pack.entry({ ...header(e), type: 'directory' });
      else if (e.type === 'symlink') pack.entry({ ...header(e), type: 'symlink', linkname: await fs.readlink(e.path) });
      else if (e.type === 'file') {
        const entry = pack.entry({ ...header(e), type: 'file', size: e.size });
        await pipeline(await fs.createReadStream(e.path), entry);
      }
      // Devices, FIFOs and sockets have no content worth downloading; they are left out.
    }
    pack.finalize();
  })().catch((err) => pack.destroy(err as Error));
  // tar-stream packs are streamx streams: pipe-compatible with Node streams (Fastify pipes them to the socket).
  return pack as unknown as Readable;
}
