import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliOk } from './cli.js';

export interface BackedUpVm {
  image: string;
  /** The disk's bytes when it was backed up. */
  atBackup: Buffer;
}

/**
 * Creates a Linux VM through the CLI (GPT + ext4 with /etc/hostname and a random payload) and backs it up once.
 */
export async function createBackedUpVm(dataDir: string, name: string, options: { sizeMiB: number; payloadMiB: number; env?: Record<string, string> }): Promise<BackedUpVm> {
  const env = options.env ? { env: options.env } : {};
  // The source tree is copied into the disk image; it goes as soon as the VM exists.
  const src = mkdtempSync(join(tmpdir(), `openem-${name}-src-`));
  try {
    mkdirSync(join(src, 'etc'));
    writeFileSync(join(src, 'etc', 'hostname'), `${name}\n`);
    writeFileSync(join(src, 'payload.bin'), randomBytes(options.payloadMiB * 2 ** 20));
    await cliOk(dataDir, ['vm', 'create', name, '--from-dir', src, '--size', `${options.sizeMiB}M`], env);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
  await cliOk(dataDir, ['backup', name], env);
  const image = JSON.parse(await cliOk(dataDir, ['vm', 'show', name, '--json'], env)).disks[0].path as string;
  return { image, atBackup: readFileSync(image) };
}

/** Overwrites one MiB of a disk image with random bytes, so a restore has something to put back. */
export function damageDisk(image: string, atMiB: number): void {
  const fd = openSync(image, 'r+');
  try {
    writeSync(fd, randomBytes(2 ** 20), 0, 2 ** 20, atMiB * 2 ** 20);
  } finally {
    closeSync(fd);
  }
}
