/**
 * Guest paths are `/`-separated and absolute. Normalising resolves `.` and `..` lexically and
 * never climbs above the root, so `/../../etc` is `/etc`: a request can never escape the guest.
 */
export function guestPathComponents(path: string): string[] {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out;
}

export function normaliseGuestPath(path: string): string {
  return '/' + guestPathComponents(path).join('/');
}

export function joinGuestPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

export function guestParentAndName(path: string): { parent: string; name: string } {
  const parts = guestPathComponents(path);
  const name = parts.pop() ?? '';
  return { parent: '/' + parts.join('/'), name };
}
