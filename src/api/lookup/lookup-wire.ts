import { el, links, list, text, type Link, type WireElement } from '../wire/wire-node.js';
import type { HierarchyItem } from './hierarchy-items.js';

/** `<LookupSvc Type="LookupService" Href>` with its links (lookup_service.md). */
export function lookupSvcElement(base: string, l: Link[]): WireElement {
  return el('LookupSvc', [['Type', 'LookupService'], ['Href', `${base}/lookupSvc`]], [links(l)]);
}

/**
 * `<HierarchyItems>` of `<HierarchyItem Type="HierarchyItem">` with ObjectRef, ObjectType, ObjectName
 * (lookup_query.md's example, which has no Href although the older XSD's HierarchyItemType requires one).
 */
export function hierarchyItemsElement(base: string, items: HierarchyItem[]): WireElement {
  return el('HierarchyItems', [], [
    list(
      null,
      'HierarchyItems',
      items.map((i) =>
        el('HierarchyItem', [['Type', 'HierarchyItem']], [
          text('ObjectRef', i.ref),
          text('ObjectType', i.type),
          text('ObjectName', i.name),
        ]),
      ),
    ),
  ]);
}
