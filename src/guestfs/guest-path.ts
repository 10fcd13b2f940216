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

/**
 * Whether a name read from a guest's folder can name one entry of it: not empty, `.` or `..`, and without `/` or
 * NUL. Any other name, joined to its folder's path, would name the folder itself, its parent or another entry
 * (`a/b` in `/` is `/a/b`), so readers leave such entries out of listings and lookups rather than alias them: a
 * hostile or damaged guest cannot make the catalog, an archive or a FUSE listing hold one path twice.
 */
export function isUsableGuestName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
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

/**
 * A guest path as a whole VM names it: a drive letter for a Windows volume (`C:/Users`, kept as the seeds write
 * it), or none for the primary volume (`/etc/hosts`). The path part is normalised as above; the letter is upper case.
 */
export function parseGuestPath(guestPath: string): { drive?: string; path: string } {
  const m = /^([A-Za-z]):(?=\/|$)/.exec(guestPath);
  if (!m) return { path: normaliseGuestPath(guestPath) };
  return { drive: m[1].toUpperCase(), path: normaliseGuestPath(guestPath.slice(2)) };
}
