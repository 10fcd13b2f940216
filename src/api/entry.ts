import type { FastifyInstance } from 'fastify';
import { el, links, list } from './wire/wire-node.js';
import { apiBase, sendWire } from './negotiate.js';

/** Versions a client may log on with (em-api.md §1): `latest` maps to v1_7. */
export const SUPPORTED_VERSIONS = ['v1_4', 'v1_5', 'v1_6', 'v1_7'];

/** `GET /api/` — Enterprise Manager's entry point, reachable without a session (em-api.md §1). */
export async function entryPlugin(app: FastifyInstance) {
  app.get('/api/', { config: { public: true }, schema: { summary: 'Entry point: EnterpriseManager' } }, async (request, reply) => {
    const base = apiBase(request);
    const root = el('EnterpriseManager', [['Href', `${base}/`], ['Type', 'EnterpriseManager']], [
      links([
        { rel: 'Down', type: 'LogonSessionList', href: `${base}/logonSessions` },
        { rel: 'Create', type: 'LogonSession', href: `${base}/sessionMngr/?v=latest` },
      ]),
      list(
        'SupportedVersions',
        'SupportedVersions',
        SUPPORTED_VERSIONS.map((v) =>
          el('SupportedVersion', [['Name', v]], [links([{ rel: 'Create', type: 'LogonSession', href: `${base}/sessionMngr/?v=${v}` }])]),
        ),
      ),
    ]);
    return sendWire(request, reply, 200, root);
  });
}
