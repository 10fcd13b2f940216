import type { Scalar, WireChild, WireElement, WireGeneratedList } from './wire-node.js';

/**
 * Enterprise Manager's JSON form (em-api.md §3): attributes and child elements become plain properties,
 * the root element's name is dropped, `Links` and repeated elements become arrays, scalars keep their type,
 * and a leaf without a value is `null`.
 *
 * Property order is EM's (.NET serialising its schema classes, most derived type first; within a type its
 * elements, then its attributes), as the whole JSON examples of the 13.0.1 pages show it
 * (resource_representation_for_ke.md, resource_representations.md): an entity's own properties, then EntityType's
 * `Name`, `UID`, then ResourceType's `Links`, `Href`, `Type`; a reference (`EntityReferenceType`) is `Links`,
 * `UID`, `Name`, `Href`, `Type`; a link is `Rel` (LinkType), then `Href`, `Name`, `Type` (ReferenceType).
 */
/** A child the chunked writer renders itself: a generated list, or an element holding one. */
class Deferred {
  constructor(readonly child: WireElement | WireGeneratedList) {}
}

function holdsGenerated(e: WireElement): boolean {
  return e.children.some((c) => c.kind === 'generated' || (c.kind === 'element' && holdsGenerated(c)));
}

/**
 * An element as a plain object in EM's property order, for JSON.stringify (one native call renders a whole
 * entry). With `defer`, generated lists and the elements holding them are left as Deferred for writeInChunks.
 */
export function toJsonObject(e: WireElement, defer = false): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const attr = new Map<string, Scalar>();
  for (const [k, v] of e.attrs) if (v !== undefined) attr.set(k, v);
  const put = (k: string) => {
    const v = attr.get(k);
    if (v !== undefined) o[k] = v;
  };
  const rest = () => {
    for (const [k, v] of attr) if (!(k in o)) o[k] = v;
  };
  if (e.name === 'Link') {
    for (const k of ['Rel', 'Href', 'Name', 'Type']) put(k);
    rest();
    return o;
  }
  if (e.name === 'Ref' || e.name === 'EntityRef') {
    for (const c of e.children) putChild(o, c, defer);
    for (const k of ['UID', 'Name', 'Href', 'Type']) put(k);
    rest();
    return o;
  }
  // A resource (it has an Href) keeps Links for its ResourceType part, after everything of the derived types.
  const resource = attr.has('Href');
  let linksChild: WireChild | undefined;
  for (const c of e.children) {
    if (resource && (((c.kind === 'list' || c.kind === 'generated') && c.jsonName === 'Links') || (c.kind === 'text' && c.name === 'Links'))) linksChild = c;
    else putChild(o, c, defer);
  }
  for (const [k, v] of attr) if (!(resource && (k === 'Name' || k === 'UID' || k === 'Href' || k === 'Type'))) o[k] = v;
  if (resource) {
    put('Name');
    put('UID');
    if (linksChild) putChild(o, linksChild, defer);
    put('Href');
    put('Type');
  }
  return o;
}

function putChild(o: Record<string, unknown>, c: WireChild, defer: boolean): void {
  if (c.kind === 'text') {
    // An element EM's type has but this resource lacks: XML leaves it out, EM's JSON writes null (em-clients.md "Reading").
    o[c.name] = c.value === undefined ? null : c.value;
  } else if (c.kind === 'list') {
    o[c.jsonName] = c.items.map((i) => toJsonObject(i));
  } else if (c.kind === 'generated') {
    o[c.jsonName] = defer ? new Deferred(c) : Array.from({ length: c.count }, (_, i) => toJsonObject(c.item(i)));
  } else {
    o[c.name] = defer && holdsGenerated(c) ? new Deferred(c) : toJsonObject(c);
  }
}

/** Rendered text not yet handed out. */
interface Sink {
  s: string;
}

/** The streaming renderer hands out text in pieces of about this many characters. */
export const JSON_CHUNK_CHARS = 64 * 1024;

/**
 * Writes an element as JSON, pausing (yielding) between the items of generated lists once the sink holds a
 * chunk; everything else is one JSON.stringify per property or list item.
 */
function* writeInChunks(e: WireElement, sink: Sink): Generator<void> {
  let sep = '{';
  for (const [k, v] of Object.entries(toJsonObject(e, true))) {
    sink.s += `${sep}${JSON.stringify(k)}:`;
    sep = ',';
    if (!(v instanceof Deferred)) sink.s += JSON.stringify(v);
    else if (v.child.kind === 'element') yield* writeInChunks(v.child, sink);
    else {
      const g = v.child;
      const write = g.write;
      sink.s += '[';
      for (let i = 0; i < g.count; i++) {
        sink.s += (i > 0 ? ',' : '') + (write ? write.json(i) : JSON.stringify(toJsonObject(g.item(i))));
        if (sink.s.length >= JSON_CHUNK_CHARS) yield;
      }
      sink.s += ']';
    }
  }
  sink.s += sep === '{' ? '{}' : '}';
}

/** The JSON document in pieces of about JSON_CHUNK_CHARS, made as they are asked for (see renderXmlChunks). */
export function* renderJsonChunks(root: WireElement): Generator<string> {
  const sink: Sink = { s: '' };
  const paused = writeInChunks(root, sink);
  while (!paused.next().done) {
    yield sink.s;
    sink.s = '';
  }
  if (sink.s !== '') yield sink.s;
}

export function renderJson(root: WireElement): string {
  return JSON.stringify(toJsonObject(root));
}
