import type { Readable } from 'node:stream';
import { badRequest, notFound } from '../errors.js';
import type { ByteRange, GuestEntry, GuestFilesystem } from './guest-filesystem.js';
import { guestPathComponents, normaliseGuestPath } from './guest-path.js';
import type { GuestVolume } from './guest-volumes.js';
import { walkGuestTree } from './walk-guest-tree.js';

const ROOT_ID = 'drives';

/**
 * A Windows guest's lettered volumes as one tree, each under a folder named by its letter (`/C/Users`), as the FLR
 * folder shows them (`<data>/flr/<vm>/C/…`, issue #12 item 5). Ids are `<letter>:<the volume's id>`, so entries of
 * two volumes never compare equal.
 */
export class DriveLetterFolders implements GuestFilesystem {
  private readonly byLetter: Map<string, GuestVolume>;

  constructor(volumes: GuestVolume[], private readonly mtime = new Date(0)) {
    this.byLetter = new Map(volumes.filter((v) => v.driveLetter).map((v) => [v.driveLetter!, v]));
  }

  /** `undefined` for the root; otherwise the volume and the path inside it (letters match case-insensitively). */
  private locate(path: string): { volume: GuestVolume; inner: string; letter: string } | undefined {
    const parts = guestPathComponents(path);
    if (parts.length === 0) return undefined;
    const letter = parts[0].toUpperCase();
    const volume = this.byLetter.get(letter);
    if (!volume) throw notFound(`guest path ${normaliseGuestPath(path)} does not exist`);
    return { volume, inner: '/' + parts.slice(1).join('/'), letter };
  }

  private outer(letter: string, e: GuestEntry): GuestEntry {
    return { ...e, path: e.path === '/' ? `/${letter}` : `/${letter}${e.path}`, name: e.path === '/' ? letter : e.name, id: `${letter}:${e.id}` };
  }

  /** The volume's own entry for one of ours. */
  private inner(e: GuestEntry): { volume: GuestVolume; letter: string; entry: GuestEntry } {
    const at = this.locate(e.path);
    const id = String(e.id);
    if (!at || !id.startsWith(`${at.letter}:`)) throw badRequest(`guest path ${e.path} is not an entry of a drive folder`);
    const raw = id.slice(at.letter.length + 1);
    return { volume: at.volume, letter: at.letter, entry: { ...e, path: at.inner, id: /^\d+$/.test(raw) ? Number(raw) : raw } };
  }

  private rootEntry(): GuestEntry {
    return { path: '/', name: '', type: 'dir', size: 0, mtime: this.mtime, id: ROOT_ID };
  }

  private letters(): GuestEntry[] {
    return [...this.byLetter.keys()].sort().map((l) => ({ path: `/${l}`, name: l, type: 'dir' as const, size: 0, mtime: this.mtime, id: `${l}:root` }));
  }

  async stat(path: string): Promise<GuestEntry | undefined> {
    const parts = guestPathComponents(path);
    if (parts.length === 0) return this.rootEntry();
    if (!this.byLetter.has(parts[0].toUpperCase())) return undefined;
    const at = this.locate(path)!;
    const e = await at.volume.fs.stat(at.inner);
    return e && this.outer(at.letter, e);
  }

  async list(path: string): Promise<GuestEntry[]> {
    const at = this.locate(path);
    if (!at) return this.letters();
    return (await at.volume.fs.list(at.inner)).map((e) => this.outer(at.letter, e));
  }

  async listEntry(dir: GuestEntry): Promise<GuestEntry[]> {
    if (dir.id === ROOT_ID) return this.letters();
    if (typeof dir.id === 'string' && dir.id.endsWith(':root') && guestPathComponents(dir.path).length === 1) return this.list(dir.path);
    const { volume, letter, entry } = this.inner(dir);
    return (await volume.fs.listEntry(entry)).map((e) => this.outer(letter, e));
  }

  async readlink(path: string): Promise<string> {
    const at = this.locate(path);
    if (!at) throw badRequest('guest path / is not a symlink');
    return at.volume.fs.readlink(at.inner);
  }

  async readlinkBytes(link: GuestEntry): Promise<Buffer> {
    const { volume, entry } = this.inner(link);
    return volume.fs.readlinkBytes(entry);
  }

  async createReadStream(path: string, range?: { start?: number; end?: number }): Promise<Readable> {
    const at = this.locate(path);
    if (!at) throw badRequest('guest path / is not a regular file');
    return at.volume.fs.createReadStream(at.inner, range);
  }

  async read(path: string, offset: number, length: number): Promise<Buffer> {
    const at = this.locate(path);
    if (!at) throw badRequest('guest path / is not a regular file');
    return at.volume.fs.read(at.inner, offset, length);
  }

  async dataRanges(file: GuestEntry): Promise<ByteRange[]> {
    const { volume, entry } = this.inner(file);
    return volume.fs.dataRanges(entry);
  }

  async createEntryReadStream(file: GuestEntry, range: ByteRange): Promise<Readable> {
    const { volume, entry } = this.inner(file);
    return volume.fs.createEntryReadStream(entry, range);
  }

  walk(path = '/'): AsyncIterable<GuestEntry> {
    return walkGuestTree(this, path);
  }
}
