import type { FastifyInstance } from 'fastify';
import { hostname } from 'node:os';
import type { FieldValue } from '../inventory/resource-kind.js';
import type { ApiContext } from '../api-context.js';
import { badRequest } from '../../errors.js';
import { apiBase, sendWire } from '../negotiate.js';
import { el, links, type Link } from '../wire/wire-node.js';
import { queryPayload, queryResultElement } from './query-result-wire.js';
import { parseFilter } from './query-filter.js';
import { QUERY_KINDS } from './query-kinds.js';

const MAX_PAGE_SIZE = 10_000;

function positiveInt(name: string, v: unknown): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw badRequest(`Query parameter '${name}' must be a positive integer`);
  return n;
}

/**
 * `GET /query?type=&format=&filter=&sortAsc|sortDesc=&pageSize=&page=` (em-api.md §4 "Query service"):
 * a QueryResult holding Refs, Entities or Resources, then PagingInfo (query-result-wire.ts). Without pageSize
 * everything is one page.
 */
export function queryPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    // querysvc.md: `<QuerySvc Type="QueryService">` with "a set of query links", each a query of one type, paginated
    // and sorted ascending ("job entities, 15 per page").
    app.get('/api/querySvc', { schema: { summary: 'Query service: one preconfigured query link per type' } }, async (request, reply) => {
      const base = apiBase(request);
      const queries: Link[] = [...QUERY_KINDS.values()].map((k) => ({ rel: 'Down', type: 'QueryResult', href: `${base}/query?type=${k.type}&format=Entities&sortAsc=name&pageSize=15&page=1`, name: k.type }));
      const home: Link = { rel: 'Up', type: 'LogonSession', href: `${base}/logonSessions/${request.principal!.session.id}` };
      return sendWire(request, reply, 200, el('QuerySvc', [['Type', 'QueryService'], ['Href', `${base}/querySvc`]], [links([home, ...queries])]));
    });
    app.get('/api/query', { schema: { summary: 'Query service: filter, sort and page any supported type' } }, async (request, reply) => {
      const q = request.query as Record<string, string | undefined>;
      if (!q.type) throw badRequest("Query parameter 'type' is required");
      const kind = QUERY_KINDS.get(q.type.toLowerCase());
      if (!kind) throw badRequest(`Query type '${q.type}' is not supported; supported: ${[...QUERY_KINDS.values()].map((k) => k.type).join(', ')}`);
      let items = await kind.list(ctx, request.principal!);
      // Every object openem serves lives on its one backup server, so the BackupServerUid/BackupServerName
      // filters the em13 query pages document hold for every type (a kind may still say otherwise).
      const server = { backupserveruid: `urn:veeam:BackupServer:${ctx.backupServerId}`, backupservername: hostname() };
      const fieldsOf = (t: unknown): Record<string, FieldValue> => ({ ...server, ...kind.fields(t) });
      const sample = items[0] ? Object.keys(fieldsOf(items[0])) : [];
      const known = new Set([...sample, 'uid', 'name']);
      if (q.filter) {
        // Fields are known from an item; an empty collection (no sessions yet, an absent type) takes any filter.
        const filter = parseFilter(q.filter, items.length > 0 ? known : undefined);
        items = items.filter((t) => filter(fieldsOf(t)));
      }
      const sortField = (q.sortDesc ?? q.sortAsc)?.toLowerCase();
      if (sortField) {
        if (!known.has(sortField) && items.length > 0) throw badRequest(`Cannot sort by unknown field '${q.sortDesc ?? q.sortAsc}'`);
        const dir = q.sortDesc ? -1 : 1;
        items = [...items].sort((a, b) => {
          const x = fieldsOf(a)[sortField];
          const y = fieldsOf(b)[sortField];
          if (x === y) return 0;
          if (x === undefined) return 1;
          if (y === undefined) return -1;
          return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
        });
      }
      const pageSize = Math.min(positiveInt('pageSize', q.pageSize) ?? Math.max(items.length, 1), MAX_PAGE_SIZE);
      const pagesCount = Math.max(1, Math.ceil(items.length / pageSize));
      const page = positiveInt('page', q.page) ?? 1;
      const pageItems = items.slice((page - 1) * pageSize, page * pageSize);

      const base = apiBase(request);
      const entities = /^entit(y|ies)$/i.test(q.format ?? '');
      const pageHref = (n: number) => {
        const params = new URLSearchParams(Object.entries(q).filter(([k, v]) => v !== undefined && k !== 'page') as [string, string][]);
        params.set('pageSize', String(pageSize));
        params.set('page', String(n));
        return `${base}/query?${params.toString()}`;
      };
      const pagingLinks: Link[] = [{ rel: 'First', href: pageHref(1) }, { rel: 'Last', href: pageHref(pagesCount) }];
      if (page > 1) pagingLinks.push({ rel: 'Previous', href: pageHref(page - 1) });
      if (page < pagesCount) pagingLinks.push({ rel: 'Next', href: pageHref(page + 1) });
      const result = queryResultElement(queryPayload(base, kind, pageItems, ctx, entities), { page, pageSize, pagesCount, links: pagingLinks });
      return sendWire(request, reply, 200, result);
    });
  };
}
