import { parseGuestPath } from '../guestfs/guest-path.js';

/**
 * The URL form of a guest path, each name percent-encoded (`:` too, but for a drive letter's); the root is `%2F`.
 * The inverse of `guestPathFromRawUrl` (guest-path.ts). Pure, without Node's API: the portal (ui/) builds the
 * same hrefs with it.
 */
export function guestPathToUrl(guestPath: string): string {
  const { drive, path } = parseGuestPath(guestPath);
  const encoded = path === '/' ? '%2F' : path.slice(1).split('/').map(encodeURIComponent).join('/');
  return drive ? `${drive}:/${encoded}` : encoded;
}
