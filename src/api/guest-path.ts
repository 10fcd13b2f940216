import type { FastifyRequest } from 'fastify';
import { badRequest } from '../errors.js';
import { parseGuestPath } from '../guestfs/guest-path.js';

const MAX_PATH_BYTES = 4096;
const MAX_NAME_BYTES = 255;

/**
 * The guest path a URL names after its fixed part (issue #5 §2, em-api.md "FLR mounts"):
 * - a Linux absolute path without its leading slash: `.../etc/nginx/nginx.conf`; a doubled slash or a leading
 *   `%2F` means the same, and `%2F` alone is the root;
 * - a Windows-style path as the seeds append it (`.../guestfs/C:/Users`): the drive letter is kept (`C:/Users`), and
 *   the VM's volumes say what it names (GuestVolumeSet: a Windows volume by its letter; on a Linux guest, with one
 *   root, any letter names that root, so `C:/Users` is `/Users`). Only a literal `X:` counts; openem's own links
 *   encode `:` as `%3A`, so a Linux file really named `C:` stays reachable; after a drive letter `\` separates names
 *   too, so `C:%5CUsers` (`C:\Users`, URL-encoded) is `C:/Users`;
 * - percent-encoding is decoded once per segment (spaces, non-ASCII); `.` or `..` segments (also as `%2e%2e`) and
 *   NUL bytes are refused with 400, never resolved, so a request cannot name anything outside the guest root.
 * The raw URL is read (not the router's decoded wildcard) so `%2F`, `%3A` and `%2e` keep their meaning.
 */
export function guestPathFromRequest(request: FastifyRequest, fixedSegments: number): string {
  return guestPathFromRawUrl(request.raw.url ?? request.url, fixedSegments);
}

export function guestPathFromRawUrl(url: string, fixedSegments: number): string {
  const pathname = url.split('?')[0];
  const raw = pathname.split('/');
  let i = 0;
  for (let seen = 0; i < raw.length && seen < fixedSegments; i++) if (raw[i] !== '') seen++;
  const rest = raw.slice(i).filter((s) => s !== '');
  let drive = '';
  // `C:` alone, or `C:` then a backslash (`C:%5CUsers%5CAnn`: a Windows path with its separators URL-encoded).
  const windows = rest.length > 0 ? /^([A-Za-z]:)(?:$|(%5[cC]|\\).*)/.exec(rest[0]) : null;
  if (windows) {
    drive = windows[1].toUpperCase();
    if (rest[0].length === 2) rest.shift();
    else rest[0] = rest[0].slice(2);
  }
  const names: string[] = [];
  for (const seg of rest) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(seg);
    } catch {
      throw badRequest(`The guest path segment '${seg}' is not valid percent-encoding`);
    }
    if (decoded.includes('\0')) throw badRequest('The guest path must not contain NUL bytes');
    // An encoded slash separates names like a plain one (`%2Fetc` = `/etc`); after a drive letter, so does a
    // backslash, as in every Windows path (NTFS names cannot hold one).
    for (const name of decoded.split(drive ? /[/\\]/ : '/')) {
      if (name === '') continue;
      if (name === '.' || name === '..') throw badRequest(`The guest path must not contain '${name}' segments`);
      if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw badRequest(`A guest file name is longer than ${MAX_NAME_BYTES} bytes`);
      names.push(name);
    }
  }
  const path = '/' + names.join('/');
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw badRequest(`The guest path is longer than ${MAX_PATH_BYTES} bytes`);
  return drive + path;
}
