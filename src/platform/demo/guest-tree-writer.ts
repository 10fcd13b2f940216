import { chmod, link, mkdir, open, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { badRequest } from '../../errors.js';

/**
 * Writes a guest's files under a root folder, with guest paths (`/etc/hostname`) rather than host paths,
 * and keeps a manifest of what it wrote so callers can report sizes.
 */
export class GuestTreeWriter {
  bytesWritten = 0;
  filesWritten = 0;

  constructor(readonly root: string) {}

  private hostPath(guestPath: string): string {
    if (!guestPath.startsWith('/') || guestPath.split('/').includes('..')) {
      throw badRequest(`guest paths are absolute and have no '..': ${guestPath}`);
    }
    return join(this.root, guestPath);
  }

  async file(guestPath: string, content: string | Buffer, mode = 0o644): Promise<void> {
    const p = this.hostPath(guestPath);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, content);
    await chmod(p, mode);
    this.bytesWritten += Buffer.byteLength(content);
    this.filesWritten++;
  }

  async dir(guestPath: string, mode = 0o755): Promise<void> {
    const p = this.hostPath(guestPath);
    await mkdir(p, { recursive: true });
    await chmod(p, mode);
  }

  /** A file of `size` bytes that holds only `data` at `offset`: the rest is a hole (the copy keeps it one). */
  async sparseFile(guestPath: string, size: number, offset: number, data: Buffer): Promise<void> {
    const p = this.hostPath(guestPath);
    await mkdir(dirname(p), { recursive: true });
    const fh = await open(p, 'w');
    try {
      await fh.write(data, 0, data.length, offset);
      await fh.truncate(size);
    } finally {
      await fh.close();
    }
    this.bytesWritten += data.length;
    this.filesWritten++;
  }

  /** A second name for an existing file (a hard link; the copy into the guest keeps it one). */
  async hardLink(existingGuestPath: string, guestPath: string): Promise<void> {
    const p = this.hostPath(guestPath);
    await mkdir(dirname(p), { recursive: true });
    await link(this.hostPath(existingGuestPath), p);
  }

  async symlink(guestPath: string, target: string): Promise<void> {
    const p = this.hostPath(guestPath);
    await mkdir(dirname(p), { recursive: true });
    await symlink(target, p);
  }
}
