import { badRequest } from '../../errors.js';
import { displayGuestPath, itemsOf, type GuestItem, type GuestWriteOptions, type GuestWriteRequest, type GuestWriteResult, type GuestWriter } from '../guest-writer.js';
import { afterFailure } from '../mounted/after-failure.js';
import { writeIntoMountedFolder } from '../mounted/write-into-mounted-folder.js';
import { ntfs3gFinisher } from './ntfs3g-finisher.js';
import { mountWithNtfs3g, type NtfsVolumeTarget } from './ntfs3g-mount.js';
import { checkNtfsClean } from './ntfsfix-check.js';

const COLON = 0x3a;

/**
 * Writes restored items into an NTFS volume inside a disk image (ARCHITECTURE.md, guest file restore): mounted with
 * ntfs-3g on a partition view for the time of the write (ntfs3g-mount.ts), written with ordinary file-system calls
 * by the same code as ext4 (write-into-mounted-folder.ts: beside, then renamed over; holes kept; space checked
 * first), plus what Windows keeps (ntfs3g-finisher.ts: streams, flags, times and, with `withSecurity`, security
 * descriptors), unmounted, then proved with `ntfsfix --no-action`. Existing names are matched as Windows matches
 * them, case-insensitively. The image must not be in use by a running guest or another writer.
 */
export class Ntfs3gWriter implements GuestWriter {
  constructor(
    private readonly target: NtfsVolumeTarget,
    private readonly withSecurity = true,
  ) {}

  async write(request: GuestWriteRequest, options: GuestWriteOptions = {}): Promise<GuestWriteResult> {
    refuseNamesNtfs3gWouldMisread(request);
    const mount = await mountWithNtfs3g(this.target);
    let result: GuestWriteResult | undefined;
    let failure: unknown;
    try {
      result = await writeIntoMountedFolder(mount.path, request, options, { finisher: ntfs3gFinisher(this.withSecurity), nameKey: windowsNameKey });
    } catch (e) {
      failure = e;
    }
    await afterFailure(failure, () => mount.unmount());
    await afterFailure(failure, () => checkNtfsClean(this.target));
    if (failure !== undefined) throw failure;
    options.log?.('ntfsfix --no-action reports the NTFS volume clean');
    return result!;
  }
}

/**
 * A `:` in a name would reach ntfs-3g's Windows stream interface as `file:stream` and write into another file's
 * stream: such names (which Windows cannot create either) are refused before anything is mounted, as are stream
 * names that could not be one path component.
 */
export function refuseNamesNtfs3gWouldMisread(request: GuestWriteRequest): void {
  const where = (item: GuestItem) => displayGuestPath([...request.parent, item.name]);
  for (const part of request.parent) {
    if (part.includes(COLON)) throw badRequest(`cannot restore into ${displayGuestPath(request.parent)}: NTFS names cannot hold ':'`);
  }
  for (const item of itemsOf(request.item)) {
    if (item.name.includes(COLON)) throw badRequest(`cannot restore ${where(item)} below ${displayGuestPath(request.parent)}: the name holds ':', which names a stream on NTFS`);
    for (const s of item.attrs.windows?.streams ?? []) {
      if (s.name === '' || /[:/\0]/.test(s.name)) throw badRequest(`cannot restore stream ${JSON.stringify(s.name)} of ${item.name.toString('utf8')}: not a name NTFS streams can have`);
    }
  }
}

/** Windows matches names by upper case (NTFS's $UpCase); characters whose upper case is longer are kept as they are. */
export function windowsNameKey(name: Buffer): string {
  let out = '';
  for (const c of name.toString('utf8')) {
    const u = c.toUpperCase();
    out += u.length === c.length ? u : c;
  }
  return out;
}
