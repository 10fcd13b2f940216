import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { badRequest } from '../../errors.js';
import { apiBase, sendWire } from '../negotiate.js';
import type { Link } from '../wire/wire-node.js';
import { hierarchyRootKind } from '../inventory/server-kinds.js';
import { hierarchyItems, lookupType, lookupTypesOf, type HierarchyItem } from './hierarchy-items.js';
import { parseHierarchyRef } from './hierarchy-refs.js';
import { hierarchyItemsElement, lookupSvcElement } from './lookup-wire.js';

const ROOT_UID = /^(?:urn:veeam:HierarchyRoot:)?([0-9A-Fa-f-]{36})$/i;
const MAX_NAME = 512;

/** The lookup's parameters, each given at most once: `name=a&name=b` is a bad request, not a list. */
function lookupQuery(query: Record<string, unknown>): Partial<Record<'host' | 'name' | 'type' | 'hierarchyRef', string>> {
  const out: Partial<Record<'host' | 'name' | 'type' | 'hierarchyRef', string>> = {};
  for (const key of ['host', 'name', 'type', 'hierarchyRef'] as const) {
    const value = query[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw badRequest(`Lookup parameter '${key}' may be given only once`);
    out[key] = value;
  }
  return out;
}

/**
 * The lookup service (lookup_service.md, lookup_query.md): `GET /lookupSvc` links a VM lookup per hierarchy
 * root (and, as EM does for vSphere, tag and storage pod lookups); `GET /lookup?host=&name=&type=` and
 * `GET /lookup?hierarchyRef=` answer HierarchyItems from the platform's live inventory, so a client can build
 * the `DatastoreRef` or `HierarchyObjRef` of a restore request (seed 001).
 */
export function lookupPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    app.get('/api/lookupSvc', { schema: { summary: 'Lookup service: one lookup link per hierarchy root' } }, async (request, reply) => {
      const base = apiBase(request);
      const p = request.principal!;
      const l: Link[] = [{ rel: 'Up', type: 'LogonSession', href: `${base}/logonSessions/${p.session.id}` }];
      for (const root of await hierarchyRootKind.list(ctx, p)) {
        const kinds = root.platform === 'vsphere' ? ['Vm', 'Tag', 'StoragePod'] : ['Vm'];
        for (const k of kinds) l.push({ rel: 'Down', type: 'HierarchyItemList', href: `${base}/lookup?host=urn:veeam:HierarchyRoot:${root.id}&name=*&type=${k}` });
      }
      return sendWire(request, reply, 200, lookupSvcElement(base, l));
    });

    app.get('/api/lookup', { schema: { summary: 'Look up virtual infrastructure objects by host, name and type, or by reference' } }, async (request, reply) => {
      const q = lookupQuery(request.query as Record<string, unknown>);
      const p = request.principal!;
      let items: HierarchyItem[];
      if (q.hierarchyRef !== undefined) {
        const ref = parseHierarchyRef(q.hierarchyRef);
        if (!ref) throw badRequest(`hierarchyRef '${q.hierarchyRef.slice(0, MAX_NAME)}' is not a hierarchy object reference (urn:<Platform>:<Type>:<HierarchyRootId>.<ObjectRef>)`);
        const root = (await hierarchyRootKind.list(ctx, p)).find((r) => r.id === ref.rootId && r.platform === ref.platform);
        items = root ? (await hierarchyItems(ctx, p, root, ref.type, '*')).filter((i) => i.ref.toLowerCase() === q.hierarchyRef!.toLowerCase()) : [];
      } else {
        if (!q.host || !q.type) throw badRequest("Lookup needs 'host' and 'type' (and optionally 'name'), or 'hierarchyRef'");
        const rootId = ROOT_UID.exec(q.host)?.[1]?.toLowerCase();
        if (!rootId) throw badRequest(`host '${q.host.slice(0, MAX_NAME)}' is not a hierarchy root UID (urn:veeam:HierarchyRoot:<id>)`);
        const name = q.name ?? '*';
        if (name.length > MAX_NAME) throw badRequest(`name longer than ${MAX_NAME} characters`);
        const root = (await hierarchyRootKind.list(ctx, p)).find((r) => r.id === rootId);
        if (root && !lookupType(root.platform, q.type)) throw badRequest(`Object type '${q.type.slice(0, 64)}' is not one of ${root.name}'s: ${lookupTypesOf(root.platform).join(', ')}`);
        // An unknown root, or one outside the caller's scope, holds nothing the caller may see.
        items = root ? await hierarchyItems(ctx, p, root, q.type, name) : [];
      }
      return sendWire(request, reply, 200, hierarchyItemsElement(apiBase(request), items));
    });
  };
}
