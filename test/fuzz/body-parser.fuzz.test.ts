// Generated XML and JSON bodies at the body parsers: they either parse or refuse with BAD_REQUEST, never
// throw anything else, never expand an entity, and bound their work: a body past the depth or element limits is
// refused by that limit (issue #6 §4). No wall-clock assertion: under load a second is not a property of the code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseXmlBody, XML_LIMITS } from '../../src/api/wire/parse-xml-body.js';
import { parseJsonBody } from '../../src/api/wire/parse-json-body.js';
import { choice, opt, req, seq, type BodySpec } from '../../src/api/wire/body-spec.js';
import { fuzzOptions, FUZZ_MS } from './fuzz-budget.js';

const SPEC: BodySpec = {
  root: 'RestoreSpec',
  content: choice(
    req('VmRestoreSpec', seq(req('PowerOnAfterRestore', 'boolean'), req('QuickRollback', 'boolean'), opt('KeepOriginalVM', 'boolean'))),
    req('FileSpec', seq(opt('Path', 'string', 256), req('Count', 'int'), opt('Nested', seq(opt('Name', 'string'))))),
  ),
};
const NAMES = ['RestoreSpec', 'VmRestoreSpec', 'PowerOnAfterRestore', 'QuickRollback', 'KeepOriginalVM', 'FileSpec', 'Path', 'Count', 'Nested', 'Name', 'x:Name', 'Other'];

function expectParsedOrBadRequest(parse: () => unknown) {
  try {
    parse();
  } catch (e) {
    assert.equal((e as { code?: string }).code, 'BAD_REQUEST', `unexpected ${(e as Error).stack}`);
    assert.doesNotMatch((e as Error).message, /\/work\/|node_modules|\bat .*:\d+:\d+/);
  }
}

type Node = { name: string; attrs: [string, string][]; children: (Node | string)[] };
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('true', 'false', '1', '0', '42', '-7', '9999999999999999999', '&amp;', '&lt;', '&lol;', '&#x41;', '&#0;', ']]>', '<![CDATA[x]]>', '\u0000', '\uFFFF', '😀'));
const node: fc.Arbitrary<Node> = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.record({
    name: fc.oneof(fc.constantFrom(...NAMES), fc.string({ minLength: 1, maxLength: 8 })),
    attrs: fc.array(fc.tuple(fc.constantFrom('xmlns', 'Type', 'a', 'xmlns:x'), fc.string({ maxLength: 10 })), { maxLength: 2 }),
    children: fc.array(fc.oneof({ depthSize: 'small', withCrossShrink: true }, text, tie('node')), { maxLength: 4 }),
  }),
})).node;

function render(n: Node | string): string {
  if (typeof n === 'string') return n;
  const attrs = n.attrs.map(([k, v]) => ` ${k}="${v}"`).join('');
  return `<${n.name}${attrs}>${n.children.map(render).join('')}</${n.name}>`;
}

const PREFIXES = ['', '<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>', '<!DOCTYPE r [<!ENTITY e "x">]>', '<!-- c -->', '<!DOCTYPE r SYSTEM "http://127.0.0.1:1/x.dtd">', '\uFEFF'];

test('generated XML bodies parse or get BAD_REQUEST', () => {
  fc.assert(
    fc.property(fc.constantFrom(...PREFIXES), node, fc.nat(40), fc.string({ maxLength: 6 }), (prefix, n, cut, junk) => {
      const doc = prefix + render(n);
      expectParsedOrBadRequest(() => parseXmlBody(doc, SPEC));
      // Truncated and spliced variants: malformed XML.
      const at = Math.min(cut, doc.length);
      expectParsedOrBadRequest(() => parseXmlBody(doc.slice(0, at) + junk + doc.slice(at), SPEC));
    }),
    fuzzOptions(FUZZ_MS / 2),
  );
});

test('deep and wide XML is refused by its limits, not by what it would build', () => {
  const refusedBy = (doc: string, limit: RegExp) =>
    assert.throws(() => parseXmlBody(doc, SPEC), (e: Error & { code?: string }) => e.code === 'BAD_REQUEST' && limit.test(e.message));
  // fast-xml-parser's validator has a nesting limit of its own, met first at this depth; either limit will do.
  refusedBy('<RestoreSpec>' + '<a>'.repeat(5000) + '</a>'.repeat(5000) + '</RestoreSpec>', new RegExp(`nested deeper than ${XML_LIMITS.maxDepth} levels|Maximum nested tags exceeded`));
  refusedBy('<RestoreSpec>' + '<a/>'.repeat(50_000) + '</RestoreSpec>', new RegExp(`more than ${XML_LIMITS.maxElements} elements`));
});

const json: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, false, 0, -1, 1.5, 1e308, '', 'true', '__proto__'),
    fc.string({ maxLength: 10 }),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...NAMES, '__proto__', 'constructor', 'powerOnAfterRestore'), fc.string({ maxLength: 6 })), tie('v'), { maxKeys: 4 }),
  ),
})).v;

test('generated JSON bodies parse or get BAD_REQUEST', () => {
  fc.assert(
    fc.property(json, fc.nat(30), fc.string({ maxLength: 4 }), (value, cut, junk) => {
      const body = JSON.stringify(value) ?? 'undefined';
      expectParsedOrBadRequest(() => parseJsonBody(body, SPEC));
      const at = Math.min(cut, body.length);
      expectParsedOrBadRequest(() => parseJsonBody(body.slice(0, at) + junk + body.slice(at), SPEC));
    }),
    fuzzOptions(FUZZ_MS / 2),
  );
  expectParsedOrBadRequest(() => parseJsonBody('['.repeat(100_000) + ']'.repeat(100_000), SPEC));
  expectParsedOrBadRequest(() => parseJsonBody('{"VmRestoreSpec":'.repeat(2000) + '1' + '}'.repeat(2000), SPEC));
});

test('entities are never expanded (a DOCTYPE is refused in any case); predefined entities and character references are decoded', () => {
  for (const doc of ['<!doctype r [<!ENTITY e "boom">]><RestoreSpec>&e;</RestoreSpec>', '\n\n<!DocType r><RestoreSpec/>', '<RestoreSpec><!ENTITY e "x"></RestoreSpec>']) {
    assert.throws(() => parseXmlBody(doc, SPEC), (e: { code?: string }) => e.code === 'BAD_REQUEST');
  }
  const parsed = (() => {
    try {
      return parseXmlBody('<RestoreSpec><FileSpec><Path>&lt;a&amp;b&gt;</Path><Count>1</Count></FileSpec></RestoreSpec>', SPEC);
    } catch (e) {
      return e;
    }
  })();
  assert.deepEqual(parsed, { FileSpec: { Path: '<a&b>', Count: 1 } }, 'predefined entities are decoded');
  assert.deepEqual(parseXmlBody('<RestoreSpec><FileSpec><Path>&#x41;&#66;</Path><Count>2</Count></FileSpec></RestoreSpec>', SPEC), { FileSpec: { Path: 'AB', Count: 2 } });
  for (const bad of ['&lol;', '&#0;', 'a & b']) {
    assert.throws(() => parseXmlBody(`<RestoreSpec><FileSpec><Path>${bad}</Path><Count>1</Count></FileSpec></RestoreSpec>`, SPEC), (e: { code?: string }) => e.code === 'BAD_REQUEST', bad);
  }
});
