/**
 * A neutral, ordered tree for Enterprise Manager representations. One tree renders to both XML
 * (attribute and element order exactly as built) and JSON (em-api.md §3: attributes and children become
 * properties, `Links` and repeated items become arrays).
 */
export type Scalar = string | number | boolean;

export interface WireElement {
  kind: 'element';
  name: string;
  attrs: [string, Scalar | undefined][];
  children: WireChild[];
}

/** A leaf element `<Name>value</Name>`; JSON property `Name: value`. */
export interface WireText {
  kind: 'text';
  name: string;
  value: Scalar | undefined;
  /** Attributes on a leaf, rare (e.g. `<Result Success="true">` is an element, not a leaf). */
}

/**
 * Repeated elements. XML: `<wrapper><item/>…</wrapper>` or, with `wrapper` null, the items inline.
 * JSON: property `jsonName` holding an array.
 */
export interface WireList {
  kind: 'list';
  wrapper: string | null;
  jsonName: string;
  items: WireElement[];
}

/**
 * Repeated elements made one at a time while they are rendered, so a 10,000-entry listing never exists as one
 * tree: the renderers ask for item `i` when they reach it and drop it once written. Renders exactly as a
 * WireList of the same items.
 */
export interface WireGeneratedList {
  kind: 'generated';
  wrapper: string | null;
  jsonName: string;
  count: number;
  item(index: number): WireElement;
  /** Writes item `i` as text straight away, where building its nodes would cost more than the text (see WireItemWriter). */
  write?: WireItemWriter;
}

/**
 * A generated list's items written as text without building their nodes: a 10,000-entry listing would otherwise make
 * some 200,000 short-lived objects, and their garbage collection was most of its cost (issue #11 goal 3). Each
 * method must return exactly what the renderers write for `item(i)`; the streaming renderers use it, `item` stays
 * the definition (tests render both and compare).
 */
export interface WireItemWriter {
  /** The item's XML lines, each starting with `indent` (the item's depth) plus its own nesting, ending with `\n`. */
  xml(index: number, indent: string): string;
  /** The item's JSON object, as JSON.stringify would write it. */
  json(index: number): string;
}

export type WireChild = WireElement | WireText | WireList | WireGeneratedList;

export function el(name: string, attrs: [string, Scalar | undefined][] = [], children: (WireChild | undefined | false)[] = []): WireElement {
  return { kind: 'element', name, attrs, children: children.filter((c): c is WireChild => !!c) };
}

export function text(name: string, value: Scalar | undefined): WireText {
  return { kind: 'text', name, value };
}

export function list(wrapper: string | null, jsonName: string, items: WireElement[]): WireList {
  return { kind: 'list', wrapper, jsonName, items };
}

/** A list whose `count` items `item(i)` makes on demand, while rendering (see WireGeneratedList). */
export function generatedList(wrapper: string | null, jsonName: string, count: number, item: (index: number) => WireElement, write?: WireItemWriter): WireGeneratedList {
  return write ? { kind: 'generated', wrapper, jsonName, count, item, write } : { kind: 'generated', wrapper, jsonName, count, item };
}

/** A `<Link Rel Type Href Name>` (attribute order as Enterprise Manager writes it, em-api.md §3). */
export interface Link {
  rel: string;
  type?: string;
  href: string;
  name?: string;
}

export function links(items: Link[]): WireList {
  return list(
    'Links',
    'Links',
    items.map((l) => el('Link', [['Rel', l.rel], ['Type', l.type], ['Href', l.href], ['Name', l.name]])),
  );
}
