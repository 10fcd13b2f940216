/** The folders from the volume's root down to `guestPath`, for breadcrumbs: `[{name:'/', path:'/'}, {name:'etc', path:'/etc'}]`. */
export function crumbsOf(guestPath: string): { name: string; path: string }[] {
  const m = /^([A-Za-z]):(.*)$/.exec(guestPath);
  const drive = m ? `${m[1].toUpperCase()}:` : '';
  const names = (m ? m[2] : guestPath).split('/').filter(Boolean);
  const out = [{ name: drive ? `${drive}\\` : '/', path: `${drive}/` }];
  names.forEach((n, i) => out.push({ name: n, path: `${drive}/${names.slice(0, i + 1).join('/')}` }));
  return out;
}

export function parentOf(guestPath: string): string {
  const crumbs = crumbsOf(guestPath);
  return crumbs.length > 1 ? crumbs[crumbs.length - 2].path : crumbs[0].path;
}

/**
 * An entry's Path as a guest path the page navigates by: a mount shows a Windows volume's entries as EM does
 * (`C:\Users\Ann`, the root `C:\`), a Linux volume's as `/etc/motd`; a path without a drive is on `drive`'s volume.
 */
export function volumePath(entryPath: string, drive: string): string {
  const m = /^([A-Za-z]):[\\/]*(.*)$/.exec(entryPath);
  if (m) return `${m[1].toUpperCase()}:/${m[2].replace(/\\/g, '/')}`;
  return drive + entryPath;
}
