import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileSystemEntriesElement, windowsPathForm, type GuestFsHrefs, type ListQuery } from '../../../src/api/guest-fs-wire.js';
import { renderXmlChunks } from '../../../src/api/wire/render-xml.js';
import { renderJsonChunks } from '../../../src/api/wire/render-json.js';
import type { WireChild, WireElement } from '../../../src/api/wire/wire-node.js';
import type { GuestEntry, GuestEntryType } from '../../../src/guestfs/guest-filesystem.js';

/** The same tree with every generated list's text writer removed: the renderers then build each item's nodes. */
function withoutWriters(e: WireElement): WireElement {
  const strip = (c: WireChild): WireChild => {
    if (c.kind === 'element') return withoutWriters(c);
    if (c.kind !== 'generated') return c;
    const { write, ...rest } = c;
    assert.ok(write, `the ${c.jsonName} list of a listing has a text writer`);
    return rest;
  };
  return { ...e, children: e.children.map(strip) };
}

const NAMES = ['plain.txt', 'a&b <c> "d" \'e\'', 'Ünïcødé ✓ 日本語', 'space name', '%41 literal', 'emoji 😀', '\ufffd not utf8', 'x'.repeat(255), '?#&=+', 'back\\slash'];
const TYPES: GuestEntryType[] = ['file', 'dir', 'symlink', 'other'];
const TIMES = [0, 1_700_000_000_000, 1_700_000_000_999, -86_400_500, Date.UTC(10001, 0, 1), 1_700_000_000_000];

/** Entries of every type, with names needing each kind of escaping, owners as numbers, names or absent, odd times. */
function entries(dirPath: string): GuestEntry[] {
  const prefix = dirPath === '/' ? '/' : `${dirPath}/`;
  return NAMES.flatMap((name, n) =>
    TYPES.map((type, t): GuestEntry => {
      const e: GuestEntry = { path: prefix + name + (t ? `-${t}` : ''), name: name + (t ? `-${t}` : ''), type, size: n * 1_000_003 + t * 2 ** 40, mtime: new Date(TIMES[(n + t) % TIMES.length]), id: n * 10 + t };
      if ((n + t) % 3 === 0) e.uid = n * 100 + t;
      if ((n + t) % 5 === 1) e.owner = n % 2 ? 'BUILTIN\\Administrators' : 'O&<"owner">';
      return e;
    }),
  );
}

const mountHrefs: GuestFsHrefs = { base: 'https://h:9398/api/vmRestorePoints/p/mounts/1', root: 'https://h:9398/api/vmRestorePoints/p/mounts/1/%2F', download: true };
const windowsHrefs: GuestFsHrefs = { base: 'https://h/api/vmRestorePoints/p/mounts/2/C:', root: 'https://h/api/vmRestorePoints/p/mounts/2/C:/%2F', download: true, shownPath: windowsPathForm('C', '\\') };
const catalogHrefs: GuestFsHrefs = { base: "https://h/api/catalog/vms/o'brien&co/vmRestorePoints/p/guestfs", root: "https://h/api/catalog/vms/o'brien&co/vmRestorePoints/p/guestfs", download: false, shownPath: windowsPathForm('D', '/') };

const QUERIES: ListQuery[] = [
  { action: 'listAll', page: 1 },
  { action: 'listDirs', page: 1 },
  { action: 'listFiles', page: 1 },
  { action: 'listAll', pageSize: 7, page: 3 },
];

test('a listing written straight as text is byte for byte what its wire nodes render to, XML and JSON, for every kind of entry, name and href', () => {
  let compared = 0;
  for (const h of [mountHrefs, windowsHrefs, catalogHrefs]) {
    for (const dirPath of ['/', '/many & <more>']) {
      const dir: GuestEntry = { path: dirPath, name: dirPath === '/' ? '' : 'many & <more>', type: 'dir', size: 4096, mtime: new Date(0), id: 2 };
      // The root folder itself among the entries: a DirectoryEntry named by its shown path.
      for (const list of [entries(dirPath), [dir, ...entries(dirPath).slice(0, 5)]]) {
        for (const q of QUERIES) {
          const tree = fileSystemEntriesElement(h, dir, list, q);
          const plain = withoutWriters(tree);
          assert.equal([...renderXmlChunks(tree)].join(''), [...renderXmlChunks(plain)].join(''), `XML of ${dirPath} ${JSON.stringify(q)} for ${h.base}`);
          assert.equal([...renderJsonChunks(tree)].join(''), [...renderJsonChunks(plain)].join(''), `JSON of ${dirPath} ${JSON.stringify(q)} for ${h.base}`);
          compared++;
        }
      }
    }
  }
  assert.equal(compared, 3 * 2 * 2 * QUERIES.length);
});

test('a listing whose entry has a time JavaScript cannot format fails the same way written as text as through its nodes', () => {
  const dir: GuestEntry = { path: '/d', name: 'd', type: 'dir', size: 0, mtime: new Date(0), id: 2 };
  const bad: GuestEntry = { path: '/d/f', name: 'f', type: 'file', size: 1, mtime: new Date(NaN), id: 3 };
  const tree = fileSystemEntriesElement(mountHrefs, dir, [bad], { action: 'listAll', page: 1 });
  assert.throws(() => [...renderXmlChunks(withoutWriters(tree))], RangeError);
  assert.throws(() => [...renderXmlChunks(tree)], RangeError);
  assert.throws(() => [...renderJsonChunks(tree)], RangeError);
});

test('an entry whose path is not its folder\'s path plus its name is written with its own path, as its nodes show it', () => {
  // Same lengths as `/many & <more>/` plus the name, so only comparing the paths tells them apart.
  const dir: GuestEntry = { path: '/many & <more>', name: 'many & <more>', type: 'dir', size: 4096, mtime: new Date(0), id: 2 };
  const odd: GuestEntry[] = [
    { path: '/mány & <more>/a&b.txt', name: 'a&b.txt', type: 'file', size: 1, mtime: new Date(0), id: 3 },
    { path: '/many & <more>/a&b.tx"', name: 'a&b.txt', type: 'dir', size: 1, mtime: new Date(0), id: 4 },
  ];
  for (const h of [mountHrefs, catalogHrefs]) {
    const tree = fileSystemEntriesElement(h, dir, odd, { action: 'listAll', page: 1 });
    const xml = [...renderXmlChunks(tree)].join('');
    assert.equal(xml, [...renderXmlChunks(withoutWriters(tree))].join(''));
    assert.equal([...renderJsonChunks(tree)].join(''), [...renderJsonChunks(withoutWriters(tree))].join(''));
    if (!h.shownPath) assert.ok(xml.includes('<Path>/mány &amp; &lt;more&gt;/a&amp;b.txt</Path>') && xml.includes('<Path>/many &amp; &lt;more&gt;/a&amp;b.tx&quot;</Path>'), xml);
  }
});
