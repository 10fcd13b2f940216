import { badRequest } from '../../errors.js';

// The rules every platform applies to the VM names openem creates live beside the platforms (vm-name-rules.ts).
export { assertValidVmName, MAX_VM_NAME_LENGTH } from '../vm-name-rules.js';

/** Disk image file names are plain names inside the VM's folder. */
export function assertValidDiskFileName(file: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(file) || file.includes('..')) {
    throw badRequest(`disk file name must be a plain file name: ${JSON.stringify(file)}`);
  }
}

/** Disk names are plain names too: a new disk's image file is named after it. */
export function assertValidDiskName(name: string): void {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,123}$/.test(name) || name.includes('..')) {
    throw badRequest(`disk name must be a plain name: ${JSON.stringify(name)}`);
  }
}
