import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiContext } from './api-context.js';
import { badRequest, notFound } from '../errors.js';
import { assertCanRestore, assertCanSeeVm } from '../services/auth/access.js';
import { findVmRestorePoint, type VmRestorePointRecord } from '../services/inventory/restore-point-records.js';
import { vmRefOfPoint } from '../services/guest-restore/vm-scope.js';
import { openRestorePointFilesystem } from '../services/guest-restore/restore-point-filesystem.js';
import { startFileRestore } from '../services/guest-restore/start-file-restore.js';
import { apiBase, sendWire } from './negotiate.js';
import { auditedRequest } from './audit-request.js';
import { taskElement } from './task-wire.js';
import { guestPathFromRequest } from './guest-path.js';
import { parseListQuery, sendGuestListing, windowsPathForm, type GuestFsHrefs } from './guest-fs-wire.js';
import { parseFileRestoreSpec, PERMISSIONS_ONLY_WINDOWS } from './mount-spec.js';
import type { GuestVolume } from '../guestfs/guest-volumes.js';
import { parseGuestPath } from '../guestfs/guest-path.js';

/** `/api/catalog/vms/:vmname/vmRestorePoints/:id/guestfs/<guest path>`: seven fixed segments before the guest path. */
const GUESTFS_PATH_SEGMENTS = 7;

type Params = { vmname: string; id: string };

/**
 * Catalog guest files (seed 000, em-api.md "Catalog / guest-fs"): browse a restore point's files and restore one
 * file or folder to its original place, without mounting. Files are read from the point through the repository's
 * block source and the guest filesystem readers, so nothing but the requested file's blocks is fetched.
 */
export function catalogGuestFsPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    /** The point named by the URL, which must belong to the VM named by the URL (404 otherwise). */
    async function point(request: FastifyRequest, mutate: boolean): Promise<VmRestorePointRecord> {
      const { vmname, id } = request.params as Params;
      const rp = await findVmRestorePoint(ctx, id);
      // EM names are case-insensitive (Windows heritage); a point of another VM is simply not there.
      if (!rp || rp.vmName.toLowerCase() !== vmname.toLowerCase()) throw notFound(`VM ${vmname} has no restore point ${id}`);
      const ref = await vmRefOfPoint(ctx, rp);
      if (mutate) assertCanRestore(request.principal!, 'file', ref);
      else assertCanSeeVm(request.principal!, ref);
      return rp;
    }

    /** Hrefs below `.../guestfs`, or below `.../guestfs/C:` for a volume with a drive letter. */
    function hrefs(request: FastifyRequest, rp: VmRestorePointRecord, volume: GuestVolume): GuestFsHrefs {
      const guestfs = `${apiBase(request)}/catalog/vms/${encodeURIComponent(rp.vmName)}/vmRestorePoints/${rp.id}/guestfs`;
      const base = volume.driveLetter ? `${guestfs}/${volume.driveLetter}:` : guestfs;
      return volume.driveLetter ? { base, root: base, download: false, shownPath: windowsPathForm(volume.driveLetter, '/') } : { base, root: base, download: false };
    }

    const browse = async (request: FastifyRequest, reply: import('fastify').FastifyReply) => {
      const rp = await point(request, false);
      const path = guestPathFromRequest(request, GUESTFS_PATH_SEGMENTS);
      const query = parseListQuery(request.query as Record<string, string | undefined>);
      const opened = await openRestorePointFilesystem(ctx, rp.id);
      try {
        const located = opened.locate(path);
        return await sendGuestListing(request, reply, located.volume.fs, hrefs(request, rp, located.volume), located.path, query);
      } finally {
        await opened.close();
      }
    };
    app.get('/api/catalog/vms/:vmname/vmRestorePoints/:id/guestfs', { schema: { summary: "Root folder of a restore point's guest files" } }, browse);
    app.get('/api/catalog/vms/:vmname/vmRestorePoints/:id/guestfs/*', { schema: { summary: "A folder or file of a restore point's guest files" } }, browse);

    app.post('/api/catalog/vms/:vmname/vmRestorePoints/:id/guestfs/*', { schema: { summary: 'Restore a guest file or folder to its original location (seed 000)' } }, async (request, reply) => {
      const action = (request.query as Record<string, string | undefined>).action;
      if (action !== 'restore') throw badRequest(`Unknown action '${action ?? ''}'; use ?action=restore`);
      const rp = await point(request, true);
      // Seed 000: "The request is supported for the following platforms: VMware vSphere, Microsoft Hyper-V".
      if (rp.platform === 'vcloud') {
        throw badRequest(`Restoring guest files from the catalog is supported for VMware vSphere and Microsoft Hyper-V VMs only; ${rp.vmName} is a VMware Cloud Director VM. Mount the restore point instead (POST /vmRestorePoints/${rp.id}/mounts).`);
      }
      const path = guestPathFromRequest(request, GUESTFS_PATH_SEGMENTS);
      if (parseGuestPath(path).path === '/') throw badRequest('The guest root folder cannot be restored as a whole; restore the folders in it');
      const spec = parseFileRestoreSpec(request);
      if (spec.kind === 'download') throw badRequest('ForDirectDownload needs a mount: POST /vmRestorePoints/{ID}/mounts, then restore from the mount');
      const opened = await openRestorePointFilesystem(ctx, rp.id);
      let handedOver = false;
      try {
        const located = opened.locate(path);
        if (spec.permissionsOnly && located.volume.kind !== 'ntfs') throw badRequest(PERMISSIONS_ONLY_WINDOWS);
        if (!(await located.volume.fs.stat(located.path))) throw notFound(`${path} does not exist in VM restore point ${rp.id}`);
        const source = async () => ({ ...located, close: () => opened.close() });
        const task = await auditedRequest(
          ctx, request, { what: 'restore-file', target: `${rp.vmName} ${rp.id}:${path}`, detail: spec.permissionsOnly ? 'catalog, permissions only' : 'catalog' },
          () => startFileRestore(ctx, { rp, guestPath: path, overwrite: spec.overwrite, permissionsOnly: spec.permissionsOnly, accountId: request.principal!.account.id, source }),
          (t) => ({ target: `${rp.vmName} ${rp.id}:${path} (${t.taskId})` }),
        );
        handedOver = true;
        return sendWire(request, reply, 202, taskElement(apiBase(request), task));
      } finally {
        if (!handedOver) await opened.close();
      }
    });
  };
}
