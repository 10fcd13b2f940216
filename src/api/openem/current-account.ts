import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { isAdmin } from '../../services/auth/access.js';
import { ROLE_DISPLAY } from '../../services/auth/roles.js';
import { apiBase, sendOpenemWire } from '../negotiate.js';
import { el, links, list, text } from '../wire/wire-node.js';
import { OPENEM_TYPES, currentAccountHref } from './openem-links.js';

/**
 * openem's `<CurrentAccount Type="openem:CurrentAccount" Href>` (issue #16): the calling account's name, role and
 * restore scope, so a client (the restore portal) offers only what the API would allow. Enterprise Manager has no
 * such resource; the API still checks every request itself. Links: Up to the caller's logon session.
 */
export function currentAccountPlugin(_ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    app.get('/api/openem/currentAccount', { schema: { summary: "openem: the calling account's role and restore scope" } }, async (request, reply) => {
      const p = request.principal!;
      const base = apiBase(request);
      const admin = isAdmin(p);
      const { scope } = p.account;
      const kinds = admin ? ['vm', 'file'] : scope.kinds;
      return sendOpenemWire(request, reply, 200, el('CurrentAccount', [['Type', OPENEM_TYPES.currentAccount], ['Href', currentAccountHref(base)]], [
        links([{ rel: 'Up', type: 'LogonSession', href: `${base}/logonSessions/${p.session.id}` }]),
        text('UserName', p.account.name),
        text('Role', ROLE_DISPLAY[p.account.role as keyof typeof ROLE_DISPLAY] ?? 'None'),
        text('AllVms', admin || scope.all),
        list('ScopeVms', 'ScopeVms', (admin ? [] : scope.vms).map((name) => el('Vm', [['Name', name]]))),
        text('CanRestoreVms', kinds.includes('vm')),
        text('CanRestoreFiles', kinds.includes('file')),
        // What only a Portal Administrator may do (summary_reports.ts, backup_sessions.ts): the portal's dashboard and stops.
        text('CanReadReports', admin),
        text('CanStopBackupSessions', admin),
      ]));
    });
  };
}
