import type { MountInfo } from '../../services/mounts/mount-types.js';
import { el, links, text, type WireElement } from '../wire/wire-node.js';
import { OPENEM_TYPES, mountDetailsHref } from './openem-links.js';

/**
 * openem's `<MountDetails Type="openem:MountDetails" Href>` (issue #5 §1, moved out of EM's VmRestorePointMount by
 * issue #10 item 3): Links (Up to the mount), the OsKind asked for and the one detected, and the read-only FUSE
 * folder on the server or why there is none. Served only to the mount's own account, as the mount is.
 */
export function mountDetailsElement(base: string, m: MountInfo): WireElement {
  const mountHref = `${base}/vmRestorePoints/${m.vmRestorePointId}/mounts/${m.number}`;
  return el('MountDetails', [['Type', OPENEM_TYPES.mountDetails], ['Href', mountDetailsHref(base, m.vmRestorePointId, m.number)]], [
    links([{ rel: 'Up', type: 'VmRestorePointMount', href: mountHref }]),
    text('OsKind', m.requestedOsKind),
    text('DetectedOsKind', m.detectedOsKind),
    text('LocalFolder', m.folder),
    text('LocalFolderUnavailable', m.folderUnavailable),
  ]);
}
