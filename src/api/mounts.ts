import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from './api-context.js';
import { badRequest, notFound, OpenemError } from '../errors.js';
import { assertCanRestore, assertCanSeeVm, canSeeOwned } from '../services/auth/access.js';
import { findVmRestorePoint, type VmRestorePointRecord } from '../services/inventory/restore-point-records.js';
import { vmRefOfPoint } from '../services/guest-restore/vm-scope.js';
import type { OpenMount } from '../services/mounts/mount-types.js';
import type { GuestVolume } from '../guestfs/guest-volumes.js';
import { startDirectDownload } from '../services/mounts/direct-download.js';
import { startFileRestore } from '../services/guest-restore/start-file-restore.js';
import { apiBase, sendOpenemWire, sendWire } from './negotiate.js';
import { mountDetailsLink } from './openem/openem-links.js';
import { mountDetailsElement } from './openem/mount-details.js';
import { auditRequest, auditedRequest } from './audit-request.js';
import { taskElement } from './task-wire.js';
import { parseFileRestoreSpec, parseMountSpec, PERMISSIONS_ONLY_WINDOWS } from './mount-spec.js';
import { guestPathFromRequest } from './guest-path.js';
import { directoryEntryElement, parseListQuery, sendGuestDownload, sendGuestListing, windowsPathForm, type GuestFsHrefs } from './guest-fs-wire.js';
import { el, links, list, type WireElement } from './wire/wire-node.js';

/** `/api/vmRestorePoints/:id/mounts/:n/<guest path>`: five fixed segments before the guest path. */
const MOUNT_PATH_SEGMENTS = 5;

type Params = { id: string; n?: string };

function mountNumber(n: string | undefined): number {
  if (!n || !/^\d{1,9}$/.test(n)) throw notFound(`Mount '${n}' was not found`);
  return Number(n);
}

/** Hrefs of a mount's entries: below the mount itself, or below `.../mounts/1/C:` for a volume with a drive letter. */
function mountHrefs(base: string, rp: VmRestorePointRecord, m: OpenMount, volume?: GuestVolume): GuestFsHrefs {
  const mount = `${base}/vmRestorePoints/${rp.id}/mounts/${m.info.number}`;
  const href = volume?.driveLetter ? `${mount}/${volume.driveLetter}:` : mount;
  const h: GuestFsHrefs = { base: href, root: `${href}/%2F`, download: true };
  if (volume?.driveLetter) h.shownPath = windowsPathForm(volume.driveLetter, '\\');
  return h;
}

/**
 * `<VmRestorePointMount Type Href>`: Links (Delete self as get_vmrestorepoints_id_mountpoints_id.md has it, then
 * Up to the point, Down to the root listing, Related session, openem's MountDetails), FSRoots of DirectoryEntry
 * (em-api.md "FLR mounts"): the root folder of each volume a guest path names (a Linux guest has one, `/`; a
 * Windows guest one per drive letter), and nothing else.
 */
function mountElement(base: string, rp: VmRestorePointRecord, m: OpenMount): WireElement {
  const h = mountHrefs(base, rp, m);
  const rpHref = `${base}/vmRestorePoints/${rp.id}`;
  return el('VmRestorePointMount', [['Type', 'VmRestorePointMount'], ['Href', h.base]], [
    links([
      { rel: 'Delete', type: 'VmRestorePointMount', href: h.base },
      { rel: 'Up', type: 'VmRestorePointReference', href: rpHref, name: rp.vmName },
      { rel: 'Down', type: 'FileSystemEntries', href: `${h.root}?action=listAll` },
      ...(m.info.restoreSessionId ? [{ rel: 'Related', type: 'RestoreSession', href: `${base}/restoreSessions/${m.info.restoreSessionId}?format=Entity` }] : []),
      mountDetailsLink(base, rp.id, m.info.number),
    ]),
    list('FSRoots', 'FSRoots', m.roots.map((r) => directoryEntryElement(mountHrefs(base, rp, m, r.volume), r.entry))),
  ]);
}

/** FLR mounts (seed 002, em-api.md "FLR mounts"): mount, list, show, browse, download, restore, unmount. */
export function mountsPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    if (!ctx.mounts) throw new OpenemError('INTERNAL', 'the mount service is not running in this context');
    const mounts = ctx.mounts;

    async function point(request: FastifyRequest, mutate: boolean): Promise<VmRestorePointRecord> {
      const { id } = request.params as Params;
      const rp = await findVmRestorePoint(ctx, id);
      if (!rp) throw notFound(`VM restore point ${id} was not found`);
      const ref = await vmRefOfPoint(ctx, rp);
      if (mutate) assertCanRestore(request.principal!, 'file', ref);
      else assertCanSeeVm(request.principal!, ref);
      return rp;
    }

    /** A mount belongs to the account that made it, as tasks do: another account's mount is not found (admins see all). */
    async function ownMount(request: FastifyRequest, rp: VmRestorePointRecord, options?: { use: boolean }): Promise<OpenMount> {
      const n = mountNumber((request.params as Params).n);
      return mounts.get(rp.id, n, { ...options, visible: (owner) => canSeeOwned(request.principal!, owner) });
    }

    const hrefs = (request: FastifyRequest, rp: VmRestorePointRecord, m: OpenMount, volume: GuestVolume) => mountHrefs(apiBase(request), rp, m, volume);

    app.post('/api/vmRestorePoints/:id/mounts', { schema: { summary: 'Mount a VM restore point for file-level restore (seed 002)' } }, async (request, reply) => {
      const rp = await point(request, true);
      const osKind = parseMountSpec(request);
      const task = await auditedRequest(
        ctx, request, { what: 'mount', target: `${rp.vmName} ${rp.id}`, detail: `OsKind ${osKind}` },
        () => mounts.requestMount(rp, osKind, request.principal!.account.id),
        (t) => ({ target: `${rp.vmName} ${rp.id} (${t.taskId})` }),
      );
      return sendWire(request, reply, 202, taskElement(apiBase(request), task));
    });

    app.get('/api/vmRestorePoints/:id/mounts', { schema: { summary: 'Mounts of a VM restore point' } }, async (request, reply) => {
      const rp = await point(request, false);
      const items = (await mounts.list(rp.id, (owner) => canSeeOwned(request.principal!, owner))).map((m) => mountElement(apiBase(request), rp, m));
      return sendWire(request, reply, 200, el('VmRestorePointMounts', [], [list(null, 'VmRestorePointMounts', items)]));
    });

    app.get('/api/vmRestorePoints/:id/mounts/:n', { schema: { summary: 'One mount: its links and file system roots' } }, async (request, reply) => {
      const rp = await point(request, false);
      const m = await ownMount(request, rp, { use: false });
      return sendWire(request, reply, 200, mountElement(apiBase(request), rp, m));
    });

    app.get('/api/openem/vmRestorePoints/:id/mounts/:n', { schema: { summary: "openem: a mount's OsKind, detected OS and FUSE folder" } }, async (request, reply) => {
      const rp = await point(request, false);
      return sendOpenemWire(request, reply, 200, mountDetailsElement(apiBase(request), (await ownMount(request, rp, { use: false })).info));
    });

    app.delete('/api/vmRestorePoints/:id/mounts/:n', { schema: { summary: 'Unmount' } }, async (request, reply) => {
      const rp = await point(request, true);
      const m = await ownMount(request, rp, { use: false });
      await auditedRequest(ctx, request, { what: 'unmount', target: `${rp.vmName} ${rp.id} mount ${m.info.number}` }, () => mounts.unmount(rp.id, m.info.number));
      return reply.code(204).send();
    });

    app.get('/api/vmRestorePoints/:id/mounts/:n/*', { schema: { summary: 'List a guest folder, or download a file or folder (?action=download)' } }, async (request, reply) => {
      const rp = await point(request, false);
      const m = await ownMount(request, rp);
      const path = guestPathFromRequest(request, MOUNT_PATH_SEGMENTS);
      const query = request.query as Record<string, string | undefined>;
      if (query.action === 'download') return download(request, reply, m, path);
      const located = m.locate(path);
      return sendGuestListing(request, reply, located.volume.fs, hrefs(request, rp, m, located.volume), located.path, parseListQuery(query), { listings: m.renderedListings, path });
    });

    app.post('/api/vmRestorePoints/:id/mounts/:n/*', { schema: { summary: 'Restore a guest file or folder (?action=restore, FileRestoreSpec) or download it (?action=download)' } }, async (request, reply) => {
      const action = (request.query as Record<string, string | undefined>).action;
      if (action === 'download') {
        const rp = await point(request, false);
        const m = await ownMount(request, rp);
        return download(request, reply, m, guestPathFromRequest(request, MOUNT_PATH_SEGMENTS));
      }
      if (action !== 'restore') throw badRequest(`Unknown action '${action ?? ''}'; use ?action=restore or ?action=download`);
      const rp = await point(request, true);
      const m = await ownMount(request, rp);
      const path = guestPathFromRequest(request, MOUNT_PATH_SEGMENTS);
      const spec = parseFileRestoreSpec(request);
      const located = m.locate(path);
      if (spec.kind === 'original' && spec.permissionsOnly && located.volume.kind !== 'ntfs') throw badRequest(PERMISSIONS_ONLY_WINDOWS);
      const entry = await located.volume.fs.stat(located.path);
      if (!entry) throw notFound(`${path} does not exist in VM restore point ${rp.id}`);
      const accountId = request.principal!.account.id;
      if (spec.kind === 'download') {
        const task = await auditedRequest(
          ctx, request, { what: 'download', target: `${rp.vmName} ${rp.id}:${path}`, detail: 'ForDirectDownload' },
          () => startDirectDownload(ctx, { accountId, vmRestorePointId: rp.id, mountNumber: m.info.number, guestPath: path }),
          (t) => ({ target: `${rp.vmName} ${rp.id}:${path} (${t.taskId})` }),
        );
        await mounts.recordActivity(m, `Direct download of ${path} prepared (${task.taskId})`);
        return sendWire(request, reply, 202, taskElement(apiBase(request), task));
      }
      const task = await auditedRequest(
        ctx, request, { what: 'restore-file', target: `${rp.vmName} ${rp.id}:${path}`, detail: spec.permissionsOnly ? 'permissions only' : spec.overwrite ? 'overwrite' : 'keep both' },
        () => {
          const release = mounts.hold(m);
          return startFileRestore(ctx, {
            rp, guestPath: path, overwrite: spec.overwrite, permissionsOnly: spec.permissionsOnly, accountId,
            // The mount's reader is borrowed: the restore holds the mount open and releases it when done.
            source: async () => ({ volume: located.volume, path: located.path, close: async () => release() }),
          }).catch((e) => {
            release();
            throw e;
          });
        },
        (t) => ({ target: `${rp.vmName} ${rp.id}:${path} (${t.taskId})` }),
      );
      await mounts.recordActivity(m, `Restore of ${spec.permissionsOnly ? `the permissions of ${path}` : path} to the original location started (${task.taskId})`);
      return sendWire(request, reply, 202, taskElement(apiBase(request), task));
    });

    async function download(request: FastifyRequest, reply: FastifyReply, m: OpenMount, path: string) {
      const located = m.locate(path);
      await auditRequest(ctx, request, 'download', `${m.info.vmRestorePointId}:${path}`);
      await mounts.recordActivity(m, `Downloaded ${path}`);
      return sendGuestDownload(reply, located.volume.fs, located.path, mounts.hold(m));
    }
  };
}
