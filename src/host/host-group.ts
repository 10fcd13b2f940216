import { OpenemError } from '../errors.js';
import { runHelper } from './helper-process.js';

/**
 * The gid of a group given by number or by name. Names go through `getent group` (NSS: /etc/group, LDAP, …),
 * since Node has no getgrnam; the name is one argv element, never parsed.
 */
export async function resolveGroupId(group: string): Promise<number> {
  if (/^\d+$/.test(group)) {
    const gid = Number(group);
    if (!Number.isSafeInteger(gid) || gid > 0xfffffffe) throw new OpenemError('BAD_REQUEST', `group id ${group} is out of range`);
    return gid;
  }
  const r = await runHelper('getent', ['group', '--', group], { debianPackage: 'libc-bin', acceptExitCodes: 'any' });
  const fields = r.code === 0 ? r.stdout.split('\n')[0].split(':') : [];
  if (fields.length < 3 || fields[0] !== group || !/^\d+$/.test(fields[2])) {
    throw new OpenemError('BAD_REQUEST', `group '${group}' does not exist on this machine (getent group found no such group)`);
  }
  return Number(fields[2]);
}
