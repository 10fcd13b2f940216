import type { GuestEntry } from '../guestfs/guest-filesystem.js';
import { isoUtc } from './inventory/em-dates.js';
import { escapeXml } from './wire/render-xml.js';
import type { WireItemWriter } from './wire/wire-node.js';

/**
 * How a listing names its entries: the listed folder's own entry (a file's "stat" lists the file itself) by its
 * href, every other entry (a child of the folder) by `childHrefPrefix` plus its URI-encoded name.
 */
export interface GuestEntryTextOptions {
  /** The listed folder's path and href (unescaped). */
  dirPath: string;
  dirHref: string;
  /** A child's href is this plus encodeURIComponent(name) (unescaped). */
  childHrefPrefix: string;
  /** The entry's `Path` as EM shows it, where that is not its path (a Windows volume). */
  shownPath?(path: string): string;
  download: boolean;
}

/**
 * The XML text between an entry's values, for one indentation (a listing uses one) and kind, joined once per listing
 * so that an entry's text is made of few pieces (each piece of a string built by `+` is one more object to make and
 * to copy when the text is turned into bytes).
 */
interface XmlParts {
  indent: string;
  /** Up to the href: `  <FileEntry Type="FileEntry" Href="`. */
  open: string;
  /** From the href's end to the first link: `">\n    <Links>\n`. */
  links: string;
  /** The links: Down (folders), Download, Restore, each from the line's start to its href, then the line's end. */
  down: string;
  downEnd: string;
  download: string;
  downloadEnd: string;
  restore: string;
  restoreEnd: string;
  /** From the last link to the path: `    </Links>\n    <Path>`. */
  path: string;
  name: string;
  /** After the name: the end of a DirectoryEntry, or `</Name>\n` of a FileEntry. */
  nameEnd: string;
  size: string;
  sizeEnd: string;
  owner: string;
  ownerEnd: string;
  modified: string;
  /** From the time to the Actions' links. */
  actions: string;
  /** After the Actions' links: the end of the FileEntry. */
  end: string;
}

function xmlParts(kind: 'FileEntry' | 'DirectoryEntry', indent: string): XmlParts {
  const in1 = `${indent}  `;
  const in2 = `${indent}    `;
  return {
    indent,
    open: `${indent}<${kind} Type="${kind}" Href="`,
    links: `">\n${in1}<Links>\n`,
    down: `${in2}<Link Rel="Down" Type="FileSystemEntries" Href="`,
    downEnd: '?action=listAll" />\n',
    download: `${in2}<Link Rel="Download" Href="`,
    downloadEnd: '?action=download" />\n',
    restore: `${in2}<Link Rel="Restore" Href="`,
    restoreEnd: '?action=restore" />\n',
    path: `${in1}</Links>\n${in1}<Path>`,
    name: `</Path>\n${in1}<Name>`,
    nameEnd: kind === 'DirectoryEntry' ? `</Name>\n${indent}</DirectoryEntry>\n` : '</Name>\n',
    size: `${in1}<Size>`,
    sizeEnd: '</Size>\n',
    owner: `${in1}<Owner>`,
    ownerEnd: '</Owner>\n',
    modified: `${in1}<ModifiedDateUTC>`,
    actions: `</ModifiedDateUTC>\n${in1}<Actions>\n`,
    end: `${in1}</Actions>\n${indent}</FileEntry>\n`,
  };
}

/** encodeURIComponent leaves `'` as it is; of the characters XML escapes, it is the only one it can write. */
function escapeEncoded(s: string): string {
  return s.includes("'") ? escapeXml(s) : s;
}

/**
 * `FileEntry` and `DirectoryEntry` of a folder listing written straight to XML and JSON text, byte for byte what
 * fileEntryElement and directoryEntryElement render to (the listing tests compare both): one string per entry
 * instead of ~20 wire nodes. An entry's name is escaped once, for its href, Path and Name: the folder's part of
 * each is escaped once per listing, as escaping works character by character (a child's path is the folder's
 * `/`-ended path plus its name; one that is not is escaped whole). The time of the last second formatted is
 * reused (a folder's files are often written within one second).
 */
export function guestEntryWriter(kind: 'FileEntry' | 'DirectoryEntry', entries: readonly GuestEntry[], o: GuestEntryTextOptions): WireItemWriter {
  let parts = xmlParts(kind, '  ');
  let lastMs = NaN;
  let lastIso = '';
  /** Needs no escaping in XML or JSON: digits, `-`, `+`, `:`, `.`, `T`, `Z`; nor does a number (Size). */
  const modified = (e: GuestEntry): string => {
    // Whole seconds, as fileEntryElement shows them.
    const ms = Math.floor(e.mtime.getTime() / 1000) * 1000;
    if (ms !== lastMs) {
      lastIso = isoUtc(ms);
      lastMs = ms;
    }
    return lastIso;
  };
  const offersDownload = (e: GuestEntry) => o.download && (e.type === 'file' || e.type === 'dir');
  const ownerOf = (e: GuestEntry) => e.owner ?? (e.uid === undefined ? undefined : String(e.uid));
  const isOwn = (e: GuestEntry) => e.path.length === o.dirPath.length && e.path === o.dirPath;
  const childPathPrefix = o.dirPath === '/' ? '/' : `${o.dirPath}/`;
  /** A child whose path is the folder's `/`-ended path plus its name (as every GuestFilesystem names them). */
  const isNamedChild = (e: GuestEntry) =>
    e.path.length === childPathPrefix.length + e.name.length && e.path.endsWith(e.name) && e.path.startsWith(childPathPrefix);
  const dirHrefXml = escapeXml(o.dirHref);
  const childHrefXml = escapeXml(o.childHrefPrefix);
  const childPathXml = escapeXml(childPathPrefix);
  // Without the closing quote: `"https://...`; an encoded name needs no JSON escaping (ASCII, no `"` or `\`).
  const dirHrefJson = JSON.stringify(o.dirHref).slice(0, -1);
  const childHrefJson = JSON.stringify(o.childHrefPrefix).slice(0, -1);
  const childPathJson = JSON.stringify(childPathPrefix).slice(0, -1);

  const linksXml = (e: GuestEntry, hx: string, p: XmlParts): string => {
    const s = e.type === 'dir' ? p.down + hx + p.downEnd : '';
    return (offersDownload(e) ? s + p.download + hx + p.downloadEnd : s) + p.restore + hx + p.restoreEnd;
  };
  /** `hj` is the href's JSON string without its closing quote. */
  const linksJson = (e: GuestEntry, hj: string): string => {
    let s = e.type === 'dir' ? `{"Rel":"Down","Href":${hj}?action=listAll","Type":"FileSystemEntries"},` : '';
    if (offersDownload(e)) s += `{"Rel":"Download","Href":${hj}?action=download"},`;
    return `[${s}{"Rel":"Restore","Href":${hj}?action=restore"}]`;
  };

  const xml = (i: number, indent: string): string => {
    if (parts.indent !== indent) parts = xmlParts(kind, indent);
    const p = parts;
    const e = entries[i];
    const own = isOwn(e);
    const nameX = escapeXml(e.name);
    const hx = own ? dirHrefXml : childHrefXml + escapeEncoded(encodeURIComponent(e.name));
    const pathX = o.shownPath ? escapeXml(o.shownPath(e.path)) : !own && isNamedChild(e) ? childPathXml + nameX : escapeXml(e.path);
    const links = linksXml(e, hx, p);
    const head = p.open + hx + p.links + links + p.path + pathX + p.name + (kind === 'DirectoryEntry' && e.path === '/' ? pathX : nameX) + p.nameEnd;
    if (kind === 'DirectoryEntry') return head;
    const owner = ownerOf(e);
    return (
      head +
      (e.size === undefined ? '' : p.size + e.size + p.sizeEnd) +
      (owner === undefined ? '' : p.owner + escapeXml(owner) + p.ownerEnd) +
      p.modified + modified(e) + p.actions + links + p.end
    );
  };

  const json = (i: number): string => {
    const e = entries[i];
    const own = isOwn(e);
    const nameJ = JSON.stringify(e.name);
    const hj = own ? dirHrefJson : childHrefJson + encodeURIComponent(e.name);
    const hrefJson = `${hj}"`;
    const links = linksJson(e, hj);
    const path = o.shownPath ? JSON.stringify(o.shownPath(e.path)) : !own && isNamedChild(e) ? childPathJson + nameJ.slice(1) : JSON.stringify(e.path);
    if (kind === 'DirectoryEntry') {
      const name = e.path === '/' ? path : nameJ;
      return `{"Path":${path},"Name":${name},"Links":${links},"Href":${hrefJson},"Type":"DirectoryEntry"}`;
    }
    const owner = ownerOf(e);
    return (
      `{"Path":${path},"Name":${nameJ},"Size":${e.size === undefined ? 'null' : JSON.stringify(e.size)},"Owner":${owner === undefined ? 'null' : JSON.stringify(owner)},` +
      `"ModifiedDateUTC":"${modified(e)}","Actions":${links},"Links":${links},"Href":${hrefJson},"Type":"FileEntry"}`
    );
  };

  return { xml, json };
}
