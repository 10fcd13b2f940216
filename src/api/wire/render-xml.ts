import type { WireChild, WireElement, Scalar } from './wire-node.js';

export const EM_NAMESPACE = 'http://www.veeam.com/ent/v1.0';
/** openem's own resources (README "openem's own resources") live in their own namespace: EM's schema never sees them. */
export const OPENEM_NAMESPACE = 'urn:openem:api:v1';

const NEEDS_ESCAPE = /[&<>"']/;

function escapeXml(s: string): string {
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

function renderChild(c: WireChild, out: string[], depth: number): void {
  if (c.kind === 'text') {
    if (c.value === undefined) return;
    out.push(`${indentOf(depth)}<${c.name}>${escapeXml(scalar(c.value))}</${c.name}>`);
  } else if (c.kind === 'list') {
    const items = c.items;
    if (c.wrapper === null) {
      for (let i = 0; i < items.length; i++) renderElement(items[i], out, depth, '');
    } else if (items.length === 0) {
      out.push(`${indentOf(depth)}<${c.wrapper} />`);
    } else {
      out.push(`${indentOf(depth)}<${c.wrapper}>`);
      for (let i = 0; i < items.length; i++) renderElement(items[i], out, depth + 1, '');
      out.push(`${indentOf(depth)}</${c.wrapper}>`);
    }
  } else {
    renderElement(c, out, depth, '');
  }
}

/** A child that writes nothing: a leaf without a value, an empty list without a wrapper. */
function writesNothing(c: WireChild): boolean {
  return c.kind === 'text' ? c.value === undefined : c.kind === 'list' ? c.wrapper === null && c.items.length === 0 : false;
}

function renderElement(e: WireElement, out: string[], depth: number, ns: string): void {
  const indent = indentOf(depth);
  const open = `${indent}<${e.name}${ns}${attrs(e)}`;
  const children = e.children;
  // An empty list (`<EntityReferences />`) closes itself, as .NET's serializer writes it.
  if (children.length === 0 || children.every(writesNothing)) {
    out.push(`${open} />`);
    return;
  }
  out.push(`${open}>`);
  for (let i = 0; i < children.length; i++) renderChild(children[i], out, depth + 1);
  out.push(`${indent}</${e.name}>`);
}

/** Renders a root element with the Enterprise Manager namespace; `&` in hrefs becomes `&amp;` (em-api.md §2). */
export function renderXml(root: WireElement, namespace: string = EM_NAMESPACE): string {
  const out: string[] = ['<?xml version="1.0" encoding="utf-8"?>'];
  renderElement(root, out, 0, ` xmlns="${namespace}"`);
  return out.join('\n') + '\n';
}
