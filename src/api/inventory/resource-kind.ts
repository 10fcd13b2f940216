import type { Principal } from '../../services/auth/logon-sessions.js';
import type { ApiContext } from '../api-context.js';
import { el, links, list, type Link, type WireElement } from '../wire/wire-node.js';

/** A value a query filter or sort can look at. */
export type FieldValue = string | number | undefined;

/**
 * One Enterprise Manager resource type, described once: how it is listed, found, named and rendered as a
 * reference and as an entity. Collections, single resources and the query service are built from these.
 */
export interface ResourceKind<T> {
  /** `VmRestorePoint`: the entity type; the reference type is `<type>Reference`. */
  type: string;
  /** Collection path under /api, e.g. `/vmRestorePoints`. */
  collection: string;
  /** Plural element of an entity list, e.g. `VmRestorePoints`. */
  entityList: string;
  list(ctx: ApiContext, p: Principal): Promise<T[]>;
  /** undefined when it does not exist; throws FORBIDDEN when it exists outside the caller's scope. */
  find(ctx: ApiContext, p: Principal, id: string): Promise<T | undefined>;
  id(t: T): string;
  name(t: T): string;
  /** Links of the reference form (besides Alternate to the entity, which is added for every kind). */
  refLinks(base: string, t: T, ctx: ApiContext): Link[];
  /** Children of the entity after its Links, and the entity's own links. */
  entity(base: string, t: T, ctx: ApiContext): { links: Link[]; children: (WireElement | import('../wire/wire-node.js').WireChild)[]; attrs?: [string, string | undefined][] };
  /** Kinds whose wire form lives elsewhere (restore sessions, tasks) render themselves. */
  renderRef?(base: string, t: T, ctx: ApiContext, elementName: 'Ref' | 'EntityRef'): WireElement;
  renderEntity?(base: string, t: T, ctx: ApiContext): WireElement;
  /** Query-service fields (em-api.md §4 query), lower-cased names. */
  fields(t: T): Record<string, FieldValue>;
}

export const uidOf = (type: string, id: string) => `urn:veeam:${type}:${id}`;

export function hrefOf<T>(base: string, kind: ResourceKind<T>, t: T): string {
  return `${base}${kind.collection}/${kind.id(t)}`;
}

/** `<Ref Type="XReference" Href Name UID>` with its Links (seed 003's VmRestorePointReference list). */
export function refElement<T>(base: string, kind: ResourceKind<T>, t: T, ctx: ApiContext, elementName: 'Ref' | 'EntityRef' = 'Ref'): WireElement {
  if (kind.renderRef) return kind.renderRef(base, t, ctx, elementName);
  const href = hrefOf(base, kind, t);
  const own = kind.refLinks(base, t, ctx);
  return el(
    elementName,
    [['Type', `${kind.type}Reference`], ['Href', href], ['Name', kind.name(t)], ['UID', uidOf(kind.type, kind.id(t))]],
    [links(withAlternate(own, { rel: 'Alternate', type: kind.type, href: `${href}?format=Entity`, name: kind.name(t) }))],
  );
}

/** The entity form: `<X Type="X" Href="…?format=Entity" Name UID …>` with Links first (em-api.md §3). */
export function entityElement<T>(base: string, kind: ResourceKind<T>, t: T, ctx: ApiContext): WireElement {
  if (kind.renderEntity) return kind.renderEntity(base, t, ctx);
  const href = hrefOf(base, kind, t);
  const e = kind.entity(base, t, ctx);
  return el(
    kind.type,
    [['Type', kind.type], ['Href', `${href}?format=Entity`], ['Name', kind.name(t)], ['UID', uidOf(kind.type, kind.id(t))], ...(e.attrs ?? [])],
    [links(withAlternate(e.links, { rel: 'Alternate', type: `${kind.type}Reference`, href, name: kind.name(t) })), ...e.children],
  );
}

/** A kind that places its Alternate link itself (EM's position for it, e.g. backupsessions_id.md) keeps it there; otherwise it goes last. */
function withAlternate(own: Link[], alternate: Link): Link[] {
  return own.some((l) => l.rel === 'Alternate') ? own : [...own, alternate];
}

export function entityReferences(items: WireElement[]): WireElement {
  return el('EntityReferences', [], [list(null, 'Refs', items)]);
}

export function entityList(name: string, items: WireElement[]): WireElement {
  return el(name, [], [list(null, name, items)]);
}
