import type { WireChild, WireElement, Scalar } from './wire-node.js';

export const EM_NAMESPACE = 'http://www.veeam.com/ent/v1.0';

const NEEDS_ESCAPE = /[&<>"']/;

function escapeXml(s: string): string {
  // Most values (ids, names, hrefs without a query) need no escaping; skip the replace for them.
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

function scalar(v: Scalar): string {
  return typeof v === 'string' ? v : String(v);
}

function attrs(e: WireElement): string {
  let out = '';
  for (const [k, v] of e.attrs) if (v !== undefined) out += ` ${k}="${escapeXml(scalar(v))}"`;
  return out;
}

function renderChild(c: WireChild, out: string[], indent: string): void {
  if (c.kind === 'text') {
    if (c.value === undefined) return;
    out.push(`${indent}<${c.name}>${escapeXml(scalar(c.value))}</${c.name}>`);
  } else if (c.kind === 'list') {
    if (c.wrapper === null) {
      for (const item of c.items) renderElement(item, out, indent, '');
    } else if (c.items.length === 0) {
      out.push(`${indent}<${c.wrapper} />`);
    } else {
      out.push(`${indent}<${c.wrapper}>`);
      for (const item of c.items) renderElement(item, out, indent + '  ', '');
      out.push(`${indent}</${c.wrapper}>`);
    }
  } else {
    renderElement(c, out, indent, '');
  }
}

function renderElement(e: WireElement, out: string[], indent: string, ns: string): void {
  const open = `${indent}<${e.name}${ns}${attrs(e)}`;
  if (e.children.length === 0) {
    out.push(`${open} />`);
    return;
  }
  out.push(`${open}>`);
  for (const c of e.children) renderChild(c, out, indent + '  ');
  out.push(`${indent}</${e.name}>`);
}

/** Renders a root element with the Enterprise Manager namespace; `&` in hrefs becomes `&amp;` (em-api.md §2). */
export function renderXml(root: WireElement): string {
  const out: string[] = ['<?xml version="1.0" encoding="utf-8"?>'];
  renderElement(root, out, '', ` xmlns="${EM_NAMESPACE}"`);
  return out.join('\n') + '\n';
}
