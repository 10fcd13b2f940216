import { createHash } from 'node:crypto';

/**
 * A GUID derived from the backup server's id and a name, so that the one repository and the one managed server of
 * a deployment keep their ids across restarts and nodes without another stored row.
 */
export function derivedId(backupServerId: string, what: 'repository' | 'managed-server'): string {
  const h = createHash('sha256').update(`${backupServerId}/${what}`).digest('hex');
  // Shaped as a version 8 (name-based, custom hash) UUID.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
