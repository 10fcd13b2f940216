import type { WireElement } from './wire-node.js';

/**
 * Enterprise Manager's JSON form (em-api.md §3): attributes and child elements become plain properties,
 * the root element's name is dropped, `Links` and repeated elements become arrays, scalars keep their type,
 * and a leaf without a value is `null`.
 */
export function toJsonObject(e: WireElement): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of e.attrs) if (v !== undefined) o[k] = v;
  for (const c of e.children) {
    if (c.kind === 'text') {
      // An element EM's type has but this resource lacks: XML leaves it out, EM's JSON writes null (em-clients.md "Reading").
      o[c.name] = c.value === undefined ? null : c.value;
    } else if (c.kind === 'list') {
      o[c.jsonName] = c.items.map(toJsonObject);
    } else {
      o[c.name] = toJsonObject(c);
    }
  }
  return o;
}

export function renderJson(root: WireElement): string {
  return JSON.stringify(toJsonObject(root));
}
