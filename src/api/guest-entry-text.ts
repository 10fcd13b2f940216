import type { GuestEntry } from '../guestfs/guest-filesystem.js';
import { isoUtc } from './inventory/em-dates.js';
import { escapeXml } from './wire/render-xml.js';
import type { WireItemWriter } from './wire/wire-node.js';

/** What a listing's entries share: how to name them in hrefs and paths, and whether they offer downloads. */
export interface GuestEntryTextOptions {
  /** The entry's href (unescaped). */
  hrefOf(entry: GuestEntry): string;
  /** The entry's `Path` as EM shows it. */
  shownPath(entry: GuestEntry): string;
  download: boolean;
}

/** The XML lines that do not depend on an entry, for one indentation (a listing uses one). */
interface XmlParts {
  indent: string;
  /** `<Links>` and `<Path>`-level lines are one step in, links two. */
  in1: string;
  in2: string;
}

function xmlParts(indent: string): XmlParts {
  return { indent, in1: `${indent}  `, in2: `${indent}    ` };
}

/**
 * `FileEntry` and `DirectoryEntry` of a folder listing written straight to XML and JSON text, byte for byte what
 * fileEntryElement and directoryEntryElement render to (the listing tests compare both): one string per entry
 * instead of ~20 wire nodes, its href escaped once for its four uses, and the time of the last second formatted
 * reused (a folder's files are often written within one second).
 */
export function guestEntryWriter(kind: 'FileEntry' | 'DirectoryEntry', entries: readonly GuestEntry[], o: GuestEntryTextOptions): WireItemWriter {
  let parts = xmlParts('  ');
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

  const linksXml = (e: GuestEntry, hx: string, in2: string): string => {
    let s = e.type === 'dir' ? `${in2}<Link Rel="Down" Type="FileSystemEntries" Href="${hx}?action=listAll" />\n` : '';
    if (offersDownload(e)) s += `${in2}<Link Rel="Download" Href="${hx}?action=download" />\n`;
    return `${s}${in2}<Link Rel="Restore" Href="${hx}?action=restore" />\n`;
  };
  /** `hj` is the href's JSON string without its closing quote. */
  const linksJson = (e: GuestEntry, hj: string): string => {
    let s = e.type === 'dir' ? `{"Rel":"Down","Href":${hj}?action=listAll","Type":"FileSystemEntries"},` : '';
    if (offersDownload(e)) s += `{"Rel":"Download","Href":${hj}?action=download"},`;
    return `[${s}{"Rel":"Restore","Href":${hj}?action=restore"}]`;
  };

  const xml = (i: number, indent: string): string => {
    if (parts.indent !== indent) parts = xmlParts(indent);
    const { in1, in2 } = parts;
    const e = entries[i];
    const hx = escapeXml(o.hrefOf(e));
    const links = linksXml(e, hx, in2);
    const head =
      `${indent}<${kind} Type="${kind}" Href="${hx}">\n${in1}<Links>\n${links}${in1}</Links>\n` +
      `${in1}<Path>${escapeXml(o.shownPath(e))}</Path>\n`;
    if (kind === 'DirectoryEntry') {
      const name = e.path === '/' ? o.shownPath(e) : e.name;
      return `${head}${in1}<Name>${escapeXml(name)}</Name>\n${indent}</DirectoryEntry>\n`;
    }
    const owner = ownerOf(e);
    return (
      `${head}${in1}<Name>${escapeXml(e.name)}</Name>\n` +
      (e.size === undefined ? '' : `${in1}<Size>${e.size}</Size>\n`) +
      (owner === undefined ? '' : `${in1}<Owner>${escapeXml(owner)}</Owner>\n`) +
      `${in1}<ModifiedDateUTC>${modified(e)}</ModifiedDateUTC>\n${in1}<Actions>\n${links}${in1}</Actions>\n${indent}</FileEntry>\n`
    );
  };

  const json = (i: number): string => {
    const e = entries[i];
    const hrefJson = JSON.stringify(o.hrefOf(e));
    const hj = hrefJson.slice(0, -1);
    const links = linksJson(e, hj);
    const path = JSON.stringify(o.shownPath(e));
    if (kind === 'DirectoryEntry') {
      const name = e.path === '/' ? path : JSON.stringify(e.name);
      return `{"Path":${path},"Name":${name},"Links":${links},"Href":${hrefJson},"Type":"DirectoryEntry"}`;
    }
    const owner = ownerOf(e);
    return (
      `{"Path":${path},"Name":${JSON.stringify(e.name)},"Size":${e.size === undefined ? 'null' : JSON.stringify(e.size)},"Owner":${owner === undefined ? 'null' : JSON.stringify(owner)},` +
      `"ModifiedDateUTC":"${modified(e)}","Actions":${links},"Links":${links},"Href":${hrefJson},"Type":"FileEntry"}`
    );
  };

  return { xml, json };
}
