import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { badRequest } from '../../errors.js';
import type { BodySpec, ComplexSpec, ParsedObject } from './body-spec.js';
import { parseLeaf } from './parse-leaf.js';

export const XML_LIMITS = { maxDepth: 32, maxElements: 10_000 };

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  trimValues: true,
  removeNSPrefix: true,
});

function tagOf(node: OrderedNode): string | undefined {
  return Object.keys(node).find((k) => k !== ':@' && k !== '#text' && !k.startsWith('?'));
}

function elementChildren(node: OrderedNode, tag: string): OrderedNode[] {
  return ((node[tag] as OrderedNode[]) ?? []).filter((c) => tagOf(c) !== undefined);
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * The parser runs with entity processing off (no DTD can define any), so the five predefined entities and
 * character references are decoded here; anything else named `&x;` is refused rather than passed on literally.
 */
function decodeReferences(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z]+);|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw badRequest('Malformed XML body: a bare & must be written &amp;');
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      const allowed = code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);
      if (!allowed) throw badRequest(`Malformed XML body: character reference ${whole} is not allowed in XML`);
      return String.fromCodePoint(code);
    }
    const v = PREDEFINED[ref];
    if (v === undefined) throw badRequest(`Malformed XML body: undefined entity ${whole}`);
    return v;
  });
}

function textOf(node: OrderedNode, tag: string): string {
  return decodeReferences(((node[tag] as OrderedNode[]) ?? []).map((c) => (c['#text'] !== undefined ? String(c['#text']) : '')).join(''));
}

function countAndDepth(nodes: OrderedNode[], depth: number, counter: { n: number }): void {
  if (depth > XML_LIMITS.maxDepth) throw badRequest(`XML body is nested deeper than ${XML_LIMITS.maxDepth} levels`);
  for (const n of nodes) {
    const tag = tagOf(n);
    if (!tag) continue;
    if (++counter.n > XML_LIMITS.maxElements) throw badRequest(`XML body has more than ${XML_LIMITS.maxElements} elements`);
    countAndDepth(n[tag] as OrderedNode[], depth + 1, counter);
  }
}

function validateComplex(spec: ComplexSpec, children: OrderedNode[], parentName: string): ParsedObject {
  const out: ParsedObject = {};
  if (spec.mode === 'choice') {
    if (children.length !== 1) throw badRequest(`Element '${parentName}' must contain exactly one of: ${spec.children.map((c) => c.name).join(', ')}`);
    const tag = tagOf(children[0])!;
    const child = spec.children.find((c) => c.name === tag);
    if (!child) throw badRequest(`Unexpected element '${tag}' in '${parentName}'; expected one of: ${spec.children.map((c) => c.name).join(', ')}`);
    out[tag] = valueOf(child, children[0], tag);
    return out;
  }
  let i = 0;
  for (const child of spec.children) {
    const node = children[i];
    const tag = node ? tagOf(node) : undefined;
    if (tag === child.name) {
      out[tag] = valueOf(child, node, tag);
      i++;
    } else if (child.min === 1) {
      const later = children.slice(i).some((c) => tagOf(c) === child.name);
      throw badRequest(
        later
          ? `Element '${child.name}' in '${parentName}' is out of order: expected it before '${tag}'`
          : `Required element '${child.name}' is missing in '${parentName}'`,
      );
    }
  }
  if (i < children.length) {
    const tag = tagOf(children[i])!;
    const known = spec.children.some((c) => c.name === tag);
    throw badRequest(known ? `Element '${tag}' in '${parentName}' is out of order or repeated` : `Unexpected element '${tag}' in '${parentName}'`);
  }
  return out;
}

function valueOf(spec: BodySpec['content']['children'][number], node: OrderedNode, tag: string) {
  if (typeof spec.type === 'string') {
    if (elementChildren(node, tag).length > 0) throw badRequest(`Element '${tag}' must not contain elements`);
    return parseLeaf(spec, textOf(node, tag));
  }
  return validateComplex(spec.type, elementChildren(node, tag), tag);
}

/**
 * Parses an XML request body against its spec. DOCTYPEs and entity declarations are refused outright
 * (billion laughs, external entities): nothing is expanded or fetched.
 */
export function parseXmlBody(body: string, spec: BodySpec): ParsedObject {
  if (/<!DOCTYPE|<!ENTITY/i.test(body)) throw badRequest('XML body must not contain a DOCTYPE or entity declarations');
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw badRequest(`Malformed XML body: ${valid.err.msg} (line ${valid.err.line})`);
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(body) as OrderedNode[];
  } catch (e) {
    throw badRequest(`Malformed XML body: ${(e as Error).message}`);
  }
  countAndDepth(nodes, 0, { n: 0 });
  const roots = nodes.filter((n) => tagOf(n) !== undefined);
  if (roots.length !== 1) throw badRequest('XML body must have exactly one root element');
  const rootTag = tagOf(roots[0])!;
  if (rootTag !== spec.root) throw badRequest(`Expected root element '${spec.root}', got '${rootTag}'`);
  return validateComplex(spec.content, elementChildren(roots[0], rootTag), rootTag);
}
