import type { WireChild, WireElement, WireGeneratedList, WireList, Scalar } from './wire-node.js';

export const EM_NAMESPACE = 'http://www.veeam.com/ent/v1.0';
/** openem's own resources (README "openem's own resources") live in their own namespace: EM's schema never sees them. */
export const OPENEM_NAMESPACE = 'urn:openem:api:v1';

const NEEDS_ESCAPE = /[&<>"']/;

/** XML text and attribute escaping, the one every representation uses (WireItemWriters too, so their text matches). */
export function escapeXml(s: string): string {
  // Most values (ids, names, hrefs without a query) need no escaping; skip the replace for them.
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

function scalar(v: Scalar): string {
  return typeof v === 'string' ? v : String(v);
}

/** Indentation by depth, built once: a listing renders ~100,000 lines at a handful of depths. */
const INDENTS: string[] = [''];
function indentOf(depth: number): string {
  while (INDENTS.length <= depth) INDENTS.push(INDENTS[INDENTS.length - 1] + '  ');
  return INDENTS[depth];
}

function attrs(e: WireElement): string {
  let out = '';
  const list = e.attrs;
  for (let i = 0; i < list.length; i++) {
    const v = list[i][1];
    if (v !== undefined) out += ` ${list[i][0]}="${escapeXml(scalar(v))}"`;
  }
  return out;
}

/** Rendered text not yet handed out. Lines end with `\n`, as the whole document's lines always have. */
interface Sink {
  s: string;
}

/** The streaming renderer hands out text in pieces of about this many characters. */
export const XML_CHUNK_CHARS = 64 * 1024;

function renderItems(items: readonly WireElement[] | WireGeneratedList, sink: Sink, depth: number): void {
  if (Array.isArray(items)) for (let i = 0; i < items.length; i++) renderElement(items[i], sink, depth, '');
  else {
    const g = items as WireGeneratedList;
    const write = g.write;
    if (write) for (let i = 0; i < g.count; i++) sink.s += write.xml(i, indentOf(depth));
    else for (let i = 0; i < g.count; i++) renderElement(g.item(i), sink, depth, '');
  }
}

function itemsOf(c: WireList | WireGeneratedList): readonly WireElement[] | WireGeneratedList {
  return c.kind === 'list' ? c.items : c;
}

function countOf(c: WireList | WireGeneratedList): number {
  return c.kind === 'list' ? c.items.length : c.count;
}

function renderChild(c: WireChild, sink: Sink, depth: number): void {
  if (c.kind === 'text') {
    if (c.value === undefined) return;
    sink.s += `${indentOf(depth)}<${c.name}>${escapeXml(scalar(c.value))}</${c.name}>\n`;
  } else if (c.kind === 'list' || c.kind === 'generated') {
    if (c.wrapper === null) renderItems(itemsOf(c), sink, depth);
    else if (countOf(c) === 0) sink.s += `${indentOf(depth)}<${c.wrapper} />\n`;
    else {
      sink.s += `${indentOf(depth)}<${c.wrapper}>\n`;
      renderItems(itemsOf(c), sink, depth + 1);
      sink.s += `${indentOf(depth)}</${c.wrapper}>\n`;
    }
  } else {
    renderElement(c, sink, depth, '');
  }
}

/** A child that writes nothing: a leaf without a value, an empty list without a wrapper. */
function writesNothing(c: WireChild): boolean {
  return c.kind === 'text' ? c.value === undefined : c.kind === 'element' ? false : c.wrapper === null && countOf(c) === 0;
}

/** The start tag, or the whole element when it writes no children (`<EntityReferences />`, as .NET writes it). */
function openTag(e: WireElement, sink: Sink, depth: number, ns: string): boolean {
  const open = `${indentOf(depth)}<${e.name}${ns}${attrs(e)}`;
  const children = e.children;
  if (children.length === 0 || children.every(writesNothing)) {
    sink.s += `${open} />\n`;
    return false;
  }
  sink.s += `${open}>\n`;
  return true;
}

function renderElement(e: WireElement, sink: Sink, depth: number, ns: string): void {
  if (!openTag(e, sink, depth, ns)) return;
  const children = e.children;
  for (let i = 0; i < children.length; i++) renderChild(children[i], sink, depth + 1);
  sink.s += `${indentOf(depth)}</${e.name}>\n`;
}

/**
 * renderElement that pauses (yields) between the items of generated lists once the sink holds a chunk, so the
 * consumer can send it before the next items are made. Plain subtrees render in one go.
 */
function* renderElementInChunks(e: WireElement, sink: Sink, depth: number, ns: string): Generator<void> {
  if (!openTag(e, sink, depth, ns)) return;
  for (const c of e.children) {
    if (c.kind === 'element') yield* renderElementInChunks(c, sink, depth + 1, '');
    else if (c.kind !== 'generated' || c.count === 0) renderChild(c, sink, depth + 1);
    else {
      const itemDepth = c.wrapper === null ? depth + 1 : depth + 2;
      if (c.wrapper !== null) sink.s += `${indentOf(depth + 1)}<${c.wrapper}>\n`;
      const write = c.write;
      const indent = indentOf(itemDepth);
      for (let i = 0; i < c.count; i++) {
        if (write) sink.s += write.xml(i, indent);
        else renderElement(c.item(i), sink, itemDepth, '');
        if (sink.s.length >= XML_CHUNK_CHARS) yield;
      }
      if (c.wrapper !== null) sink.s += `${indentOf(depth + 1)}</${c.wrapper}>\n`;
    }
  }
  sink.s += `${indentOf(depth)}</${e.name}>\n`;
}

/**
 * The document in pieces of about XML_CHUNK_CHARS, made as they are asked for: a listing's entries are rendered
 * while earlier pieces are being sent, and only one piece is held at a time.
 */
export function* renderXmlChunks(root: WireElement, namespace: string = EM_NAMESPACE): Generator<string> {
  const sink: Sink = { s: '<?xml version="1.0" encoding="utf-8"?>\n' };
  const paused = renderElementInChunks(root, sink, 0, ` xmlns="${namespace}"`);
  while (!paused.next().done) {
    yield sink.s;
    sink.s = '';
  }
  if (sink.s !== '') yield sink.s;
}

/**
 * Renders a root element with the Enterprise Manager namespace; `&` in hrefs becomes `&amp;` (em-api.md §2).
 * Joined from the pieces: one ever-growing string would be a rope that costs seconds to flatten at 100 MB.
 */
export function renderXml(root: WireElement, namespace: string = EM_NAMESPACE): string {
  return [...renderXmlChunks(root, namespace)].join('');
}
