import type { FastifyRequest } from 'fastify';
import { XMLParser } from 'fast-xml-parser';
import { badRequest } from '../errors.js';
import type { MountOsKind } from '../services/mounts/mount-types.js';
import { parseBody } from './request-body.js';
export { PERMISSIONS_ONLY_WINDOWS } from '../services/guest-restore/restore-guest-path.js';
import { choice, opt, seq, type BodySpec, type ComplexSpec, type ParsedObject } from './wire/body-spec.js';

const MOUNT_CONTENT: ComplexSpec = seq(opt('OsKind', 'string', 32));

/**
 * The mount body's XML root is not in the documentation dump (em-api.md §8). `VmRestorePointMountSpec` is primary:
 * EM names request bodies `<Resource>Spec` after what they create (`RestoreSpec`, `FileRestoreSpec`, `LoginSpec`)
 * and this creates a `VmRestorePointMount`. `MountSpec` and `RestorePointMountSpec` are accepted too, because the
 * guesses clients and older docs make vary and the body holds one optional element that cannot be misread.
 */
export const MOUNT_SPEC_ROOTS = ['VmRestorePointMountSpec', 'MountSpec', 'RestorePointMountSpec'];

/** `FileRestoreSpec` (em-api.md "FLR mounts"): ToOriginalLocation (Overwrite, PermissionsOnly, GuestCredentials) or ForDirectDownload. */
export const FILE_RESTORE_SPEC: BodySpec = {
  root: 'FileRestoreSpec',
  content: choice(
    opt('ToOriginalLocation', seq(opt('Overwrite', 'boolean'), opt('PermissionsOnly', 'boolean'), opt('GuestCredentials', seq(opt('UserName', 'string', 256), opt('Password', 'string', 1024))))),
    opt('ForDirectDownload', seq()),
  ),
};

function xmlRootName(body: string): string | undefined {
  const m = /<\s*(?:[\w.-]+:)?([\w.-]+)[\s/>]/.exec(body.replace(/<\?[\s\S]*?\?>|<!--[\s\S]*?-->/g, ''));
  return m?.[1];
}

function isXmlRequest(request: FastifyRequest): boolean {
  const type = String(request.headers['content-type'] ?? '').toLowerCase();
  return !type.includes('json');
}

/** Seed 002: OsKind Linux or Windows; Windows when absent. */
export function parseMountSpec(request: FastifyRequest): MountOsKind {
  const raw = typeof request.body === 'string' ? request.body : '';
  let root = MOUNT_SPEC_ROOTS[0];
  if (raw.trim() && isXmlRequest(request)) {
    const found = xmlRootName(raw);
    if (found && MOUNT_SPEC_ROOTS.includes(found)) root = found;
    else if (found) throw badRequest(`Expected root element '${MOUNT_SPEC_ROOTS[0]}' (or ${MOUNT_SPEC_ROOTS.slice(1).join(', ')}), got '${found}'`);
  }
  const spec = parseBody(request, { root, content: MOUNT_CONTENT });
  const kind = spec?.OsKind;
  if (kind === undefined) return 'Windows';
  const match = (['Linux', 'Windows'] as const).find((k) => k.toLowerCase() === String(kind).toLowerCase());
  if (!match) throw badRequest(`OsKind must be Linux or Windows, got '${String(kind)}'`);
  return match;
}

export type FileRestoreChoice = { kind: 'original'; overwrite: boolean; permissionsOnly: boolean } | { kind: 'download' };

/**
 * The restore body. With no body the file goes back to its original location, replacing what is there (seed 000
 * has no body at all). Overwrite may be an XML attribute of ToOriginalLocation (as EM writes it) or a child.
 * GuestCredentials are accepted and not needed: openem writes into the VM's disk image, not through the guest.
 * PermissionsOnly (element, or attribute as Overwrite may be) restores only the security descriptors of an existing
 * item (Windows guests only: the route refuses it for others with PERMISSIONS_ONLY_WINDOWS).
 */
export function parseFileRestoreSpec(request: FastifyRequest): FileRestoreChoice {
  const spec = parseBody(request, FILE_RESTORE_SPEC);
  if (!spec) return { kind: 'original', overwrite: true, permissionsOnly: false };
  if (spec.ForDirectDownload !== undefined) return { kind: 'download' };
  const to = spec.ToOriginalLocation as ParsedObject;
  let overwrite: ParsedObject[string] | undefined = to.Overwrite;
  if (overwrite === undefined && isXmlRequest(request)) overwrite = booleanAttribute(String(request.body), 'Overwrite');
  let permissionsOnly: ParsedObject[string] | undefined = to.PermissionsOnly;
  if (permissionsOnly === undefined && isXmlRequest(request)) permissionsOnly = booleanAttribute(String(request.body), 'PermissionsOnly');
  return { kind: 'original', overwrite: overwrite === undefined ? true : overwrite === true, permissionsOnly: permissionsOnly === true };
}

const attrParser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', removeNSPrefix: true, processEntities: false, parseAttributeValue: false });

function booleanAttribute(body: string, name: 'Overwrite' | 'PermissionsOnly'): boolean | undefined {
  const doc = attrParser.parse(body) as { FileRestoreSpec?: { ToOriginalLocation?: Record<string, unknown> } };
  const v = doc.FileRestoreSpec?.ToOriginalLocation?.[name];
  if (typeof v !== 'string') return undefined;
  if (/^(true|1)$/i.test(v)) return true;
  if (/^(false|0)$/i.test(v)) return false;
  throw badRequest(`${name} must be true or false, got '${v}'`);
}
