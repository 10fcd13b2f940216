import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GuestEntry, GuestFilesystem } from '../guestfs/guest-filesystem.js';
import { guestParentAndName } from '../guestfs/guest-path.js';
import { badRequest, notFound } from '../errors.js';
import { guestFolderArchive } from '../services/mounts/guest-folder-archive.js';
import { contentTypeOf, responseFormat, type WireFormat } from './negotiate.js';
import type { MountListings } from '../services/mounts/rendered-listings.js';
import { EM_NAMESPACE, renderXmlChunks } from './wire/render-xml.js';
import { renderJsonChunks } from './wire/render-json.js';
import { isoUtc } from './inventory/em-dates.js';
import { guestPathToUrl } from './guest-path-url.js';
import { guestEntryWriter } from './guest-entry-text.js';
import { el, generatedList, links, text, type Link, type WireChild, type WireElement, type WireList } from './wire/wire-node.js';

/** Where a tree of guest entries lives in the API: a mount (`.../mounts/1`) or a catalog point (`.../guestfs`). */
export interface GuestFsHrefs {
  /** Entry hrefs are `${base}/${path}`. */
  base: string;
  /** Href of the root folder (a mount's root is `.../mounts/1/%2F`; the catalog's is `.../guestfs` itself). */
  root: string;
  /** Mounts offer downloads; the catalog offers restores only (seed 000). */
  download: boolean;
  /** An entry's `Path` as EM shows it, when that is not the volume path itself (a Windows volume: windowsPathForm). */
  shownPath?(path: string): string;
}

/**
 * How EM shows the paths of a Windows volume: with its drive letter, `C:/Documents/Invoice1.docx` in the catalog
 * (scenario_1_click_restore.md) and `C:\Shares` in mounts (get_vmrestorepoints_id_mountpoints_id_filepath.md; the
 * FSRoots entry is `C:\`, em-api.md "FLR mounts").
 */
export function windowsPathForm(driveLetter: string, separator: '/' | '\\'): (path: string) => string {
  const root = `${driveLetter}:${separator}`;
  return separator === '/' ? (path) => root + path.slice(1) : (path) => root + path.slice(1).replaceAll('/', separator);
}

export type ListAction = 'listAll' | 'listDirs' | 'listFiles';

export interface ListQuery {
  action: ListAction;
  pageSize?: number;
  page: number;
}

export function entryHref(h: GuestFsHrefs, path: string): string {
  return path === '/' ? h.root : `${h.base}/${guestPathToUrl(path)}`;
}

function parentPath(path: string): string | undefined {
  return path === '/' ? undefined : guestParentAndName(path).parent;
}


/**
 * Every entry carries the links a client follows (issue #5 §2): browse into a folder, download, restore; so
 * clients never build guest URLs themselves. (Up to the parent is on the listing itself, not repeated per entry.)
 * `href` is passed in so a listing encodes each name once: 10,000 entries must render in well under 200 ms.
 */
function entryLinks(h: GuestFsHrefs, e: GuestEntry, href: string): WireList {
  // Built as wire nodes directly (what links() would make): a listing builds 20,000+ of them.
  const items: WireElement[] = [];
  if (e.type === 'dir') items.push(linkElement(SHARED_ATTRS.relDown, SHARED_ATTRS.typeEntries, `${href}?action=listAll`));
  if (h.download && (e.type === 'file' || e.type === 'dir')) items.push(linkElement(SHARED_ATTRS.relDownload, SHARED_ATTRS.noType, `${href}?action=download`));
  items.push(linkElement(SHARED_ATTRS.relRestore, SHARED_ATTRS.noType, `${href}?action=restore`));
  return { kind: 'list', wrapper: 'Links', jsonName: 'Links', items };
}

/** Attribute pairs every entry repeats, shared rather than rebuilt (wire nodes are never mutated after building). */
type Attr = [string, string | undefined];
const SHARED_ATTRS: Record<string, Attr> = {
  relDown: ['Rel', 'Down'], relDownload: ['Rel', 'Download'], relRestore: ['Rel', 'Restore'],
  typeEntries: ['Type', 'FileSystemEntries'], noType: ['Type', undefined], noName: ['Name', undefined],
  FileEntry: ['Type', 'FileEntry'], DirectoryEntry: ['Type', 'DirectoryEntry'],
};

function linkElement(rel: Attr, type: Attr, href: string): WireElement {
  return { kind: 'element', name: 'Link', attrs: [rel, type, ['Href', href], SHARED_ATTRS.noName], children: [] };
}

function element(name: 'FileEntry' | 'DirectoryEntry', href: string, children: WireChild[]): WireElement {
  return { kind: 'element', name, attrs: [SHARED_ATTRS[name], ['Href', href]], children };
}

/** DirectoryEntry: Links, Path, Name (em-api.md "FLR mounts"). */
export function directoryEntryElement(h: GuestFsHrefs, e: GuestEntry, href = entryHref(h, e.path)): WireElement {
  const shown = h.shownPath ? h.shownPath(e.path) : e.path;
  // A volume's root is named by its path (`/`, `C:\`).
  return element('DirectoryEntry', href, [entryLinks(h, e, href), text('Path', shown), text('Name', e.path === '/' ? shown : e.name)]);
}

/**
 * FileEntry: Links, Path, Name, Size, Owner, ModifiedDateUTC, Actions (XSD FileEntryType,
 * get_vmrestorepoints_id_mountpoints_id_filepath.md: "List of request URLs available for the file" — the same
 * Download and Restore links). Owner is the guest's own name for it where the filesystem keeps one (NTFS), else the
 * uid (names live in the guest's /etc/passwd).
 */
export function fileEntryElement(h: GuestFsHrefs, e: GuestEntry, href = entryHref(h, e.path)): WireElement {
  const l = entryLinks(h, e, href);
  return element('FileEntry', href, [
    l,
    text('Path', h.shownPath ? h.shownPath(e.path) : e.path),
    text('Name', e.name),
    text('Size', e.size),
    text('Owner', e.owner ?? (e.uid === undefined ? undefined : String(e.uid))),
    // Whole seconds, as guest listings have always shown them (em-api.md §3), in EM's one date format.
    text('ModifiedDateUTC', isoUtc(Math.floor(e.mtime.getTime() / 1000) * 1000)),
    { kind: 'list', wrapper: 'Actions', jsonName: 'Actions', items: l.items },
  ]);
}

export function parseListQuery(query: Record<string, string | undefined>): ListQuery {
  const action = (query.action ?? 'listAll') as ListAction;
  if (!['listAll', 'listDirs', 'listFiles'].includes(action)) throw badRequest(`Unknown action '${query.action}' for a GET; use listAll, listDirs, listFiles or download`);
  const int = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    if (!/^\d{1,9}$/.test(v) || Number(v) < 1) throw badRequest(`${name} must be a positive integer`);
    return Number(v);
  };
  return { action, pageSize: int('pageSize', query.pageSize), page: int('page', query.page) ?? 1 };
}

/**
 * `<FileSystemEntries Href>`: Links (Up to the parent folder, Down to the list variants), Files, Directories,
 * PagingInfo. Without pageSize everything is on one page, as EM's query service does by default.
 */
export function fileSystemEntriesElement(h: GuestFsHrefs, dir: GuestEntry, entries: GuestEntry[], q: ListQuery): WireElement {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const dirs: GuestEntry[] = [];
  const files: GuestEntry[] = [];
  for (const e of sorted) {
    if (e.type === 'dir') {
      if (q.action !== 'listFiles') dirs.push(e);
    } else if (q.action !== 'listDirs') files.push(e);
  }
  const all = dirs.concat(files);
  const pageSize = q.pageSize ?? Math.max(1, all.length);
  const pages = Math.max(1, Math.ceil(all.length / pageSize));
  const shown = all.slice((q.page - 1) * pageSize, q.page * pageSize);
  const dirHref = entryHref(h, dir.path);
  // Children of one folder share its href: encode only each name (a single-file "stat" lists the file itself).
  const childPrefix = dir.path === '/' ? `${h.base}/` : `${dirHref}/`;
  const hrefOf = (e: GuestEntry) => (e.path === dir.path ? dirHref : childPrefix + encodeURIComponent(e.name));
  const pageHref = (page: number) => `${dirHref}?action=${q.action}&pageSize=${pageSize}&page=${page}`;
  const top: Link[] = [];
  const up = parentPath(dir.path);
  if (up !== undefined) top.push({ rel: 'Up', type: 'FileSystemEntries', href: `${entryHref(h, up)}?action=listAll` });
  for (const a of ['listAll', 'listDirs', 'listFiles']) top.push({ rel: 'Down', type: 'FileSystemEntries', href: `${dirHref}?action=${a}`, name: a });
  const paging: Link[] = [{ rel: 'First', href: pageHref(1) }];
  if (q.page > 1) paging.push({ rel: 'Previous', href: pageHref(Math.min(q.page - 1, pages)) });
  if (q.page < pages) paging.push({ rel: 'Next', href: pageHref(q.page + 1) });
  paging.push({ rel: 'Last', href: pageHref(pages) });
  const shownFiles = shown.filter((e) => e.type !== 'dir');
  const shownDirs = shown.filter((e) => e.type === 'dir');
  // Each entry is rendered when the renderer reaches it and dropped once written (the listing streams); the
  // streaming renderers write it as text straight away (guestEntryWriter), `item` is what that text must equal.
  const entryText = { dirPath: dir.path, dirHref, childHrefPrefix: childPrefix, shownPath: h.shownPath, download: h.download };
  return el('FileSystemEntries', [['Href', pageHref(q.page)]], [
    links(top),
    generatedList('Files', 'Files', shownFiles.length, (i) => fileEntryElement(h, shownFiles[i], hrefOf(shownFiles[i])), guestEntryWriter('FileEntry', shownFiles, entryText)),
    generatedList('Directories', 'Directories', shownDirs.length, (i) => directoryEntryElement(h, shownDirs[i], hrefOf(shownDirs[i])), guestEntryWriter('DirectoryEntry', shownDirs, entryText)),
    el('PagingInfo', [['PageNum', q.page], ['PageSize', pageSize], ['PagesCount', pages]], [links(paging)]),
  ]);
}

/** Where a listing may be kept as sent: a mount's listings, and the listed path as the mount names it. */
export interface KeptListing {
  listings: MountListings;
  /** The path as the mount names it (`C:/Users`): with the hrefs, it says which volume. */
  path: string;
}

/**
 * The body of a GET on a guest path, in the pieces sent: a folder's entries, or a file "stat" as a one-entry list;
 * NOT_FOUND for a missing path. The pieces are made as they are asked for (the listing streams). With `kept`, a
 * listing sent before is sent again as it was, and a new one is kept once it has all been sent.
 */
export async function guestListingBody(fs: GuestFilesystem, h: GuestFsHrefs, path: string, q: ListQuery, format: WireFormat, kept?: KeptListing): Promise<Iterable<Buffer>> {
  const key = kept && JSON.stringify([kept.path, format, q.action, q.pageSize ?? 0, q.page, h.base, h.root, h.download]);
  const hit = key === undefined ? undefined : kept!.listings.get(key);
  if (hit) return hit;
  const entry = await fs.stat(path);
  if (!entry) throw notFound(`${path} does not exist in the restore point`);
  const entries = entry.type === 'dir' ? await fs.list(path) : [entry];
  const dir = entry.type === 'dir' ? entry : ((await fs.stat(guestParentAndName(path).parent)) ?? entry);
  const tree = fileSystemEntriesElement(h, dir, entries, q);
  const recorder = key === undefined ? undefined : kept!.listings.record(key);
  return (function* () {
    for (const piece of format === 'json' ? renderJsonChunks(tree) : renderXmlChunks(tree, EM_NAMESPACE)) {
      const bytes = Buffer.from(piece);
      recorder?.add(bytes);
      yield bytes;
    }
    recorder?.complete();
  })();
}

/** GET on a guest path (guestListingBody), streamed: chunked, no Content-Length. */
export async function sendGuestListing(request: FastifyRequest, reply: FastifyReply, fs: GuestFilesystem, h: GuestFsHrefs, path: string, q: ListQuery, kept?: KeptListing) {
  const format = responseFormat(request);
  const body = await guestListingBody(fs, h, path, q, format, kept);
  return reply.code(200).type(contentTypeOf(format)).send(Readable.from(body, { objectMode: false }));
}

/** `filename` for plain clients plus RFC 6266 `filename*` so non-ASCII names survive. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/**
 * Streams a file (Content-Length set; a 2 GiB file never sits in memory) or a folder as a tar archive.
 * `release` runs when the response ends, however it ends.
 */
export async function sendGuestDownload(reply: FastifyReply, fs: GuestFilesystem, path: string, release: () => void) {
  reply.raw.once('close', release);
  try {
    const entry = await fs.stat(path);
    if (!entry) throw notFound(`${path} does not exist in the restore point`);
    const name = entry.path === '/' ? 'root' : entry.name;
    if (entry.type === 'file') {
      const stream = await fs.createReadStream(path);
      reply.header('Content-Length', entry.size).header('Content-Disposition', contentDisposition(name)).type('application/octet-stream');
      return reply.code(200).send(stream);
    }
    if (entry.type === 'dir') {
      reply.header('Content-Disposition', contentDisposition(`${name}.tar`)).type('application/x-tar');
      return reply.code(200).send(guestFolderArchive(fs, entry));
    }
    throw badRequest(`${path} is a ${entry.type}; only files and folders can be downloaded`);
  } catch (e) {
    release();
    throw e;
  }
}
