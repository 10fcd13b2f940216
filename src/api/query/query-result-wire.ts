import type { ApiContext } from '../api-context.js';
import { el, links, list, type Link, type WireElement } from '../wire/wire-node.js';
import { entityElement, refElement, type ResourceKind } from '../inventory/resource-kind.js';

/**
 * Types whose query results are `Resources` (XSD ResourcesType: Files, Directories, Tasks…), not `Refs` or
 * `Entities`: a Task has no reference form, so `format` does not apply to it.
 */
const RESOURCE_TYPES = new Set(['Task']);

/**
 * What a QueryResult holds (XSD QueryResultType: a choice of `Refs`, `Entities`, `Resources`). Each is a list
 * type, so EM's JSON nests the list inside its wrapper as it does for every list inside an entity
 * (em-clients.md "Reading"): `{"Refs":{"Refs":[…]}}`, `{"Entities":{"BackupJobSessions":{"BackupJobSessions":[…]}}}`,
 * `{"Resources":{"Tasks":{"Tasks":[…]}}}`.
 */
export function queryPayload<T>(base: string, kind: ResourceKind<T>, items: T[], ctx: ApiContext, entities: boolean): WireElement {
  if (RESOURCE_TYPES.has(kind.type)) return el('Resources', [], [pluralList(kind.entityList, items.map((t) => entityElement(base, kind, t, ctx)))]);
  if (entities) return el('Entities', [], [pluralList(kind.entityList, items.map((t) => entityElement(base, kind, t, ctx)))]);
  return el('Refs', [], [list(null, 'Refs', items.map((t) => refElement(base, kind, t, ctx)))]);
}

/** `<Plural><Item/>…</Plural>`, in JSON `"Plural": {"Plural": […]}`. */
function pluralList(name: string, items: WireElement[]): WireElement {
  return el(name, [], [list(null, name, items)]);
}

export interface Paging {
  page: number;
  pageSize: number;
  pagesCount: number;
  links: Link[];
}

/** `<QueryResult>`: the payload, then PagingInfo with the page links. No top-level Links: EM sends none. */
export function queryResultElement(payload: WireElement, paging: Paging): WireElement {
  return el('QueryResult', [], [
    payload,
    el('PagingInfo', [['PageNum', paging.page], ['PageSize', paging.pageSize], ['PagesCount', paging.pagesCount]], [links(paging.links)]),
  ]);
}
