import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { collectionPlugin } from '../inventory/collections.js';
import { ABSENT_COLLECTIONS, absentKind } from './absent-kinds.js';

/** `GET <collection>` (empty, references or `?format=Entity`) and `GET <collection>/{ID}` (404) for each absent collection. */
export function absentCollectionsPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    for (const c of ABSENT_COLLECTIONS) await app.register(collectionPlugin(absentKind(c))(ctx));
  };
}
