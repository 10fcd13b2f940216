import { open, type FileHandle } from 'node:fs/promises';
import { OpenemError } from '../errors.js';
import { runHelper } from './helper-process.js';

/** A loop device over one byte window of an image file (a partition view), for tools that take no offset. */
export interface LoopDevice {
  /** `/dev/loopN`. */
  readonly path: string;
  /** Lets go of the device; the kernel removes it once no other holder (ntfs-3g, ntfsfix) has it open. */
  release(): Promise<void>;
}

/**
 * Attaches a loop device over bytes [offset, offset + size) of `image` (`losetup --offset --sizelimit`; the path is
 * one argv element, never parsed) and makes it vanish by itself: this process opens the device, then detaches it at
 * once — a busy loop device is only marked to clear itself, and the kernel removes it when its last holder closes it.
 * So a server killed at any later point (our descriptor closes, the tools die with us) leaves no loop device behind.
 */
export async function attachLoopDevice(image: string, offset: number, size: number, opts: { readOnly: boolean }): Promise<LoopDevice> {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(size) || size <= 0) {
    throw new OpenemError('BAD_REQUEST', `invalid partition window ${offset}+${size}`);
  }
  const args = ['--find', '--show', ...(opts.readOnly ? ['--read-only'] : []), '--offset', String(offset), '--sizelimit', String(size), '--', image];
  const path = (await runHelper('losetup', args, { debianPackage: 'mount' })).stdout.trim();
  if (!/^\/dev\/loop\d+$/.test(path)) throw new OpenemError('INTERNAL', `losetup answered '${path}' instead of a loop device`);
  let held: FileHandle;
  try {
    held = await open(path, opts.readOnly ? 'r' : 'r+');
  } catch (e) {
    await runHelper('losetup', ['-d', path], { debianPackage: 'mount', acceptExitCodes: 'any' });
    throw e;
  }
  try {
    await runHelper('losetup', ['-d', path], { debianPackage: 'mount' });
  } catch (e) {
    await held.close();
    throw e;
  }
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      await held.close();
    },
  };
}
