import type { Link } from '../wire/wire-node.js';

/**
 * Links from Enterprise Manager's resources to openem's own (issue #10 item 3): what openem knows beyond EM (a
 * restore session's log, a mount's detected OS and FUSE folder, a catalog point's index state) lives in
 * resources of its own, so EM's resources carry exactly EM's elements. Each such link comes after EM's links
 * (clients index EM's by position) with Rel `openem:Details` and an `openem:` Type no EM client asks for.
 */
export const OPENEM_REL = 'openem:Details';

export const OPENEM_TYPES = {
  restoreSessionLog: 'openem:RestoreSessionLog',
  mountDetails: 'openem:MountDetails',
  catalogIndexState: 'openem:CatalogIndexState',
  catalogFiles: 'openem:CatalogFiles',
  currentAccount: 'openem:CurrentAccount',
} as const;

export const currentAccountHref = (base: string) => `${base}/openem/currentAccount`;
export const restoreSessionLogHref = (base: string, sessionId: string) => `${base}/openem/restoreSessions/${sessionId}/log`;
export const mountDetailsHref = (base: string, vmRestorePointId: string, number: number) => `${base}/openem/vmRestorePoints/${vmRestorePointId}/mounts/${number}`;
export const catalogIndexStateHref = (base: string, vmName: string, vmRestorePointId: string) =>
  `${base}/openem/catalog/vms/${encodeURIComponent(vmName)}/vmRestorePoints/${vmRestorePointId}/indexState`;

export const restoreSessionLogLink = (base: string, sessionId: string): Link => ({ rel: OPENEM_REL, type: OPENEM_TYPES.restoreSessionLog, href: restoreSessionLogHref(base, sessionId) });
export const mountDetailsLink = (base: string, vmRestorePointId: string, number: number): Link => ({ rel: OPENEM_REL, type: OPENEM_TYPES.mountDetails, href: mountDetailsHref(base, vmRestorePointId, number) });
export const catalogIndexStateLink = (base: string, vmName: string, vmRestorePointId: string): Link => ({
  rel: OPENEM_REL,
  type: OPENEM_TYPES.catalogIndexState,
  href: catalogIndexStateHref(base, vmName, vmRestorePointId),
});
