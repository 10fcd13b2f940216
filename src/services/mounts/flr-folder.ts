import { join } from 'node:path';

/**
 * The FLR folder's name for a VM: the VM's name as it is (seed 002's C:\VeeamFLR\<vm-name>) when that is a plain
 * folder name, else encoded so it always is one: `/`, `\` and NUL become `%2F`, `%5C` and `%00`, a leading dot
 * `%2E`, an empty name `%00`. So a VM named `.`, `..` or `../x` (a libvirt domain openem did not define, say) stays
 * mountable, in a folder of its own under the FLR root, never over the root or its parent.
 */
export function flrFolderName(vmName: string): string {
  // eslint-disable-next-line no-control-regex
  const name = vmName.replace(/[/\\\u0000]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
  if (name === '') return '%00';
  return name.startsWith('.') ? '%2E' + name.slice(1) : name;
}

/** `<flrRoot>/<folder name>`; a second mount of the same VM gets `<folder name>_2`, and so on, past the `taken` ones. */
export function flrFolderPath(flrRoot: string, vmName: string, taken: ReadonlySet<string>): string {
  const base = flrFolderName(vmName);
  for (let k = 1; ; k++) {
    const p = join(flrRoot, k === 1 ? base : `${base}_${k}`);
    if (!taken.has(p)) return p;
  }
}
