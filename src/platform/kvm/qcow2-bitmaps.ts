import { runHelper } from '../../host/helper-process.js';

/** The persistent dirty bitmaps a qcow2 image holds (libvirt checkpoints' and openem's own), by name. */
export async function qcow2Bitmaps(image: string): Promise<string[]> {
  const info = JSON.parse((await runHelper('qemu-img', ['info', '-U', '--output=json', '--', image], { debianPackage: 'qemu-utils' })).stdout) as {
    'format-specific'?: { data?: { bitmaps?: { name: string; flags: string[] }[] } };
  };
  // An `in-use` bitmap was not stored by a clean close: its bits cannot be trusted.
  return (info['format-specific']?.data?.bitmaps ?? []).filter((b) => !b.flags.includes('in-use')).map((b) => b.name);
}

/** Starts a new persistent bitmap that records every later write to `image` (the image must not be in use). */
export async function addBitmap(image: string, name: string): Promise<void> {
  await runHelper('qemu-img', ['bitmap', '--add', '--enable', '--', image, name], { debianPackage: 'qemu-utils' });
}

/** Virtual size and format of an image file. */
export async function imageInfo(image: string): Promise<{ size: number; format: string }> {
  const info = JSON.parse((await runHelper('qemu-img', ['info', '-U', '--output=json', '--', image], { debianPackage: 'qemu-utils' })).stdout) as {
    'virtual-size': number;
    format: string;
  };
  return { size: info['virtual-size'], format: info.format };
}
