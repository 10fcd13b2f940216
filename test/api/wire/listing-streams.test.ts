import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLValidator } from 'fast-xml-parser';
import { fileSystemEntriesElement, type GuestFsHrefs } from '../../../src/api/guest-fs-wire.js';
import { renderXml, renderXmlChunks, XML_CHUNK_CHARS } from '../../../src/api/wire/render-xml.js';
import { renderJson, renderJsonChunks, JSON_CHUNK_CHARS } from '../../../src/api/wire/render-json.js';
import type { GuestEntry } from '../../../src/guestfs/guest-filesystem.js';

const h: GuestFsHrefs = { base: 'https://h/api/vmRestorePoints/p/mounts/1', root: 'https://h/api/vmRestorePoints/p/mounts/1/%2F', download: true };
const dir: GuestEntry = { path: '/many', name: 'many', type: 'dir', size: 4096, mtime: new Date(0), id: 12 };

/** A folder of `n` entries (every 10th a folder) that counts how many of them were rendered: mtime is read only then. */
function countingFolder(n: number): { entries: GuestEntry[]; rendered: () => number } {
  let reads = 0;
  const entries = Array.from({ length: n }, (_, i): GuestEntry => {
    const name = `entry-${String(i).padStart(6, '0')} & <${i}>`;
    const mtime = new Date(Date.UTC(2024, 0, 1) + i * 1000);
    const e = { path: `/many/${name}`, name, type: i % 10 === 0 ? 'dir' : 'file', size: i, uid: 1000, id: 100 + i } as GuestEntry;
    Object.defineProperty(e, 'mtime', { enumerable: true, get: () => (reads++, mtime) });
    return e;
  });
  return { entries, rendered: () => reads };
}

for (const format of ['xml', 'json'] as const) {
  test(`a 20,000-entry listing streams (${format}): the first piece is out before most entries are rendered, each piece is bounded, and the pieces are the whole document`, () => {
    const n = 20_000;
    const { entries, rendered } = countingFolder(n);
    const tree = fileSystemEntriesElement(h, dir, entries, { action: 'listAll', page: 1 });
    const chunks = format === 'xml' ? renderXmlChunks(tree) : renderJsonChunks(tree);
    const limit = format === 'xml' ? XML_CHUNK_CHARS : JSON_CHUNK_CHARS;
    const first = chunks.next();
    assert.ok(!first.done);
    // Files come first in a listing, so only files' mtimes are read before the first piece is handed out.
    assert.ok(rendered() < n / 20, `only ${rendered()} of ${n} entries rendered when the first piece is out`);
    const pieces = [first.value];
    let biggest = first.value.length;
    for (let r = chunks.next(); !r.done; r = chunks.next()) {
      pieces.push(r.value);
      biggest = Math.max(biggest, r.value.length);
    }
    assert.ok(pieces.length > 100, `${pieces.length} pieces`);
    // A piece ends after the entry that passed the limit: at most the limit plus one entry.
    assert.ok(biggest < limit + 4096, `largest piece ${biggest} characters`);
    const whole = pieces.join('');
    const fileCount = n - n / 10;
    assert.equal(rendered(), fileCount, 'each file rendered once (folders have no mtime element)');
    if (format === 'xml') {
      assert.equal(whole, renderXml(tree), 'the pieces are the document renderXml writes');
      assert.equal(XMLValidator.validate(whole), true);
      assert.equal(whole.match(/<FileEntry /g)?.length, fileCount);
      assert.equal(whole.match(/<DirectoryEntry /g)?.length, n / 10);
    } else {
      assert.equal(whole, renderJson(tree), 'the pieces are the document renderJson writes');
      const doc = JSON.parse(whole);
      assert.equal(doc.Files.length, fileCount);
      assert.equal(doc.Directories.length, n / 10);
      assert.equal(doc.Files[0].Name, 'entry-000001 & <1>');
      assert.deepEqual(Object.keys(doc), ['Files', 'Directories', 'PagingInfo', 'Links', 'Href']);
    }
  });
}

test('an empty folder and a one-file page render the same whole or in pieces', () => {
  const { entries } = countingFolder(3);
  for (const shown of [[], entries.slice(1, 2), entries]) {
    for (const q of [{ action: 'listAll' as const, page: 1 }, { action: 'listDirs' as const, page: 1 }, { action: 'listAll' as const, pageSize: 1, page: 2 }]) {
      const tree = fileSystemEntriesElement(h, dir, shown, q);
      assert.equal([...renderXmlChunks(tree)].join(''), renderXml(tree));
      assert.equal([...renderJsonChunks(tree)].join(''), renderJson(tree));
    }
  }
  const empty = [...renderXmlChunks(fileSystemEntriesElement(h, dir, [], { action: 'listAll', page: 1 }))].join('');
  assert.match(empty, /<Files \/>\n {2}<Directories \/>/);
});
