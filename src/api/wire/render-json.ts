import type { WireChild, WireElement } from './wire-node.js';

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
export function toJsonObject(e: WireElement): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const attr = new Map(e.attrs.filter(([, v]) => v !== undefined));
  const put = (k: string) => {
    if (attr.has(k)) o[k] = attr.get(k);
  };
  if (e.name === 'Link') {
    for (const k of ['Rel', 'Href', 'Name', 'Type']) put(k);
    for (const [k, v] of attr) if (!(k in o)) o[k] = v;
    return o;
  }
  if (e.name === 'Ref' || e.name === 'EntityRef') {
    for (const c of e.children) putChild(o, c);
    for (const k of ['UID', 'Name', 'Href', 'Type']) put(k);
    for (const [k, v] of attr) if (!(k in o)) o[k] = v;
    return o;
  }
  // A resource (it has an Href) keeps Links for its ResourceType part, after everything of the derived types.
  const resource = attr.has('Href');
  let linksChild: WireChild | undefined;
  for (const c of e.children) {
    if (resource && ((c.kind === 'list' && c.jsonName === 'Links') || (c.kind === 'text' && c.name === 'Links'))) linksChild = c;
    else putChild(o, c);
  }
  const base = new Set(resource ? ['Name', 'UID', 'Href', 'Type'] : []);
  for (const [k, v] of attr) if (!base.has(k)) o[k] = v;
  if (resource) {
    put('Name');
    put('UID');
    if (linksChild) putChild(o, linksChild);
    put('Href');
    put('Type');
  }
  return o;
}

function putChild(o: Record<string, unknown>, c: WireChild): void {
  if (c.kind === 'text') {
    // An element EM's type has but this resource lacks: XML leaves it out, EM's JSON writes null (em-clients.md "Reading").
    o[c.name] = c.value === undefined ? null : c.value;
  } else if (c.kind === 'list') {
    o[c.jsonName] = c.items.map(toJsonObject);
  } else {
    o[c.name] = toJsonObject(c);
  }
}

export function renderJson(root: WireElement): string {
  return JSON.stringify(toJsonObject(root));
}
