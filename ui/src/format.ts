/** Bytes in binary units, as the repository counts them. */
export function bytes(n: number | undefined): string {
  if (n === undefined || n === null || Number.isNaN(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** `2026-12-01 13:10 UTC`: EM's times are UTC, and so are the page's. */
export function utc(iso: string | undefined): string {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/:\d\d(\.\d+)?Z$/, ' UTC');
}

/** How long ago, in the largest whole unit ("3 h ago"). */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export const day = (iso: string) => iso.slice(0, 10);

/** The platform a hierarchy reference names (constructing_hierarchyobjreftype.md): `urn:VMware:…`, `urn:HyperV:…`, `urn:vCloud:…`. */
export type Platform = 'vsphere' | 'hyperv' | 'vcloud';
export function platformOf(hierarchyObjRef: string | undefined): Platform {
  const kind = /^urn:([^:]+):/.exec(hierarchyObjRef ?? '')?.[1]?.toLowerCase();
  return kind === 'hyperv' ? 'hyperv' : kind === 'vcloud' ? 'vcloud' : 'vsphere';
}
export const PLATFORM_NAME: Record<Platform, string> = { vsphere: 'VMware vSphere', hyperv: 'Microsoft Hyper-V', vcloud: 'VMware Cloud Director' };

/** The hierarchy root a VM reference is under: `urn:<kind>:Vm:<root>.<vm>`. */
export const rootIdOf = (hierarchyObjRef: string | undefined) => /^urn:[^:]+:Vm:([^.]+)\./i.exec(hierarchyObjRef ?? '')?.[1];

export const idOfUid = (uid: string) => uid.slice(uid.lastIndexOf(':') + 1);

/** The last path segment of an href: the id in `/api/restoreSessions/<id>?format=Entity`. */
export const lastSegment = (href: string) => new URL(href, location.href).pathname.split('/').filter(Boolean).pop() ?? '';
