import { stat } from 'node:fs/promises';
import { OpenemError } from '../../errors.js';
import { runHelper } from '../../host/helper-process.js';
import { readQcow2Header } from './qcow2-header.js';

/**
 * `-f <format>` for every qemu tool: the format the domain XML's driver names, never probed from the image, so a
 * raw guest disk holding a qcow2 header (which the guest can write) does not decide its own size or format.
 */
export function formatArgs(format: string): string[] {
  if (!/^[a-z0-9]{1,16}$/.test(format)) throw new OpenemError('UNAVAILABLE', `disk image format '${format}' is not one openem reads`);
  return ['-f', format];
}

/** The persistent dirty bitmaps a qcow2 image holds (libvirt checkpoints' and openem's own), by name. */
export async function qcow2Bitmaps(image: string): Promise<string[]> {
  // An `in-use` bitmap was not stored by a clean close, and one without `auto` (disabled) stopped recording
  // writes: neither can say what changed, so neither counts (a full read instead).
  return (await readQcow2Header(image)).bitmaps.filter((b) => b.flags.includes('auto') && !b.flags.includes('in-use')).map((b) => b.name);
}

/** Every persistent bitmap's name, trusted or not. */
export async function allQcow2Bitmaps(image: string): Promise<string[]> {
  return (await readQcow2Header(image)).bitmaps.map((b) => b.name);
}

/** Removes persistent bitmap `name` from `image` (the image must not be in use). */
export async function removeBitmap(image: string, name: string): Promise<void> {
  await runHelper('qemu-img', ['bitmap', '--remove', ...formatArgs('qcow2'), '--', image, name], { debianPackage: 'qemu-utils' });
}

/** Starts a new persistent bitmap that records every later write to `image` (the image must not be in use). */
export async function addBitmap(image: string, name: string): Promise<void> {
  await runHelper('qemu-img', ['bitmap', '--add', '--enable', ...formatArgs('qcow2'), '--', image, name], { debianPackage: 'qemu-utils' });
}

/** Virtual size of an image file read as `format` (the domain XML's driver type). */
export async function imageInfo(image: string, format: string): Promise<{ size: number; format: string }> {
  const info = JSON.parse((await runHelper('qemu-img', ['info', '-U', ...formatArgs(format), '--output=json', '--', image], { debianPackage: 'qemu-utils' })).stdout) as {
    'virtual-size': number;
    format: string;
  };
  return { size: info['virtual-size'], format: info.format };
}

/**
 * Virtual size of an image file read as `format`, without starting qemu-img where the answer is in the file: a
 * qcow2 image's header holds it, a raw image is as large as its file. Other formats are asked of qemu-img.
 */
export async function imageSize(image: string, format: string): Promise<number> {
  if (format === 'raw') return (await stat(image)).size;
  if (format !== 'qcow2') return (await imageInfo(image, format)).size;
  return (await readQcow2Header(image)).size;
}
