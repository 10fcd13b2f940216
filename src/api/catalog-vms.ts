import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './api-context.js';
import { badRequest, forbidden, notFound } from '../errors.js';
import { isAdmin } from '../services/auth/access.js';
import type { Principal } from '../services/auth/logon-sessions.js';
import { apiBase, sendOpenemWire, sendWire } from './negotiate.js';
import { OPENEM_TYPES, catalogIndexStateHref, catalogIndexStateLink } from './openem/openem-links.js';
import { el, links, list, text } from './wire/wire-node.js';
import { entityReferences } from './inventory/resource-kind.js';
import { visiblePoints, assertPointVisible } from './inventory/visible-points.js';
import { vmRestorePointName } from './inventory/vm-restore-point-kind.js';
import { isoUtc } from './inventory/em-dates.js';
import { wantsEntity } from './inventory/collections.js';
import { findVmRestorePoint, listVmRestorePoints, type VmRestorePointRecord } from '../services/inventory/restore-point-records.js';
import { searchCatalog } from '../services/inventory/catalog-search.js';
import { guestPathToUrl } from './guest-path-url.js';
import { auditedRequest } from './audit-request.js';
import { taskElement } from './task-wire.js';
import { openRestorePointFilesystem } from '../services/guest-restore/restore-point-filesystem.js';

const vmPath = (base: string, name: string) => `${base}/catalog/vms/${encodeURIComponent(name)}`;

export function catalogVmRef(base: string, name: string, elementName: 'Ref' | 'EntityRef' = 'Ref') {
  const href = vmPath(base, name);
  return el(elementName, [['Type', 'CatalogVmReference'], ['Href', href], ['Name', name], ['UID', `urn:veeam:CatalogVm:${encodeURIComponent(name)}`]], [
    links([
      { rel: 'Down', type: 'CatalogVmRestorePointReferenceList', href: `${href}/vmRestorePoints` },
      { rel: 'Alternate', type: 'CatalogVm', href: `${href}?format=Entity`, name },
    ]),
  ]);
}

export function catalogVmEntity(base: string, name: string) {
  const href = vmPath(base, name);
  return el('CatalogVm', [['Type', 'CatalogVm'], ['Href', `${href}?format=Entity`], ['Name', name], ['UID', `urn:veeam:CatalogVm:${encodeURIComponent(name)}`], ['VmDisplayName', name]], [
    // scenario_1_click_restore.md: Alternate, then Down.
    links([{ rel: 'Alternate', type: 'CatalogVmReference', href, name }, { rel: 'Down', type: 'CatalogVmRestorePointReferenceList', href: `${href}/vmRestorePoints` }]),
  ]);
}

function pointRef(base: string, r: VmRestorePointRecord, elementName = 'Ref') {
  const href = `${vmPath(base, r.vmName)}/vmRestorePoints/${r.id}`;
  return el(elementName, [['Type', 'CatalogVmRestorePointReference'], ['Href', href], ['Name', vmRestorePointName(r)], ['UID', `urn:veeam:CatalogVmRestorePoint:${r.id}`]], [
    links([
      { rel: 'Up', type: 'CatalogVmReference', href: vmPath(base, r.vmName), name: r.vmName },
      { rel: 'Alternate', type: 'CatalogVmRestorePoint', href: `${href}?format=Entity`, name: vmRestorePointName(r) },
    ]),
  ]);
}

/** The catalog entity: Links, BackupDateUTC; whether guest files were indexed is openem's own resource (indexStateElement). */
function pointEntity(base: string, r: VmRestorePointRecord) {
  const href = `${vmPath(base, r.vmName)}/vmRestorePoints/${r.id}`;
  return el('CatalogVmRestorePoint', [['Type', 'CatalogVmRestorePoint'], ['Href', `${href}?format=Entity`], ['Name', vmRestorePointName(r)], ['UID', `urn:veeam:CatalogVmRestorePoint:${r.id}`]], [
    // scenario_1_click_restore.md: Alternate, Up, Browse, Related; openem's guestfs is also browsable by GET at once (Down).
    links([
      { rel: 'Alternate', type: 'CatalogVmRestorePointReference', href, name: vmRestorePointName(r) },
      { rel: 'Up', type: 'CatalogVm', href: `${vmPath(base, r.vmName)}?format=Entity`, name: r.vmName },
      { rel: 'Browse', href: `${href}?action=browse` },
      { rel: 'Related', type: 'VmRestorePoint', href: `${base}/vmRestorePoints/${r.id}?format=Entity`, name: vmRestorePointName(r) },
      { rel: 'Down', type: 'FileSystemEntries', href: `${href}/guestfs` },
      catalogIndexStateLink(base, r.vmName, r.id),
    ]),
    text('BackupDateUTC', isoUtc(r.createdAt)),
  ]);
}

/** openem's `<CatalogIndexState Type="openem:CatalogIndexState" Href>`: Links (Up to the catalog point), IndexState, IndexMessage. */
function indexStateElement(base: string, r: VmRestorePointRecord) {
  const pointHref = `${vmPath(base, r.vmName)}/vmRestorePoints/${r.id}`;
  return el('CatalogIndexState', [['Type', OPENEM_TYPES.catalogIndexState], ['Href', catalogIndexStateHref(base, r.vmName, r.id)]], [
    links([{ rel: 'Up', type: 'CatalogVmRestorePoint', href: `${pointHref}?format=Entity`, name: vmRestorePointName(r) }]),
    text('IndexState', r.indexState),
    text('IndexMessage', r.indexMessage),
  ]);
}

/** A VM's points the caller may see; naming a VM that has points, none of them in scope, is refused with 403 (issue #6). */
export async function scopedPointsOf(ctx: ApiContext, p: Principal, vmName: string): Promise<VmRestorePointRecord[]> {
  const points = await visiblePoints(ctx, p, { vmName });
  if (points.length === 0 && !isAdmin(p) && (await listVmRestorePoints(ctx, { vmName })).length > 0) {
    throw forbidden(`The restore scope of account ${p.account.name} does not include VM ${vmName}`);
  }
  return points;
}

/** The guest-file catalog by VM name (em-api.md §4 "Catalog / guest-fs"), and a search by file name. */
export function catalogVmsPlugin(ctx: ApiContext) {
  return async function (app: FastifyInstance) {
    app.get('/api/catalog/vms', { schema: { summary: 'VMs with indexed restore points' } }, async (request, reply) => {
      const names = [...new Set((await visiblePoints(ctx, request.principal!)).map((r) => r.vmName))].sort();
      const base = apiBase(request);
      if (wantsEntity(request)) return sendWire(request, reply, 200, el('CatalogVms', [], [list(null, 'CatalogVms', names.map((n) => catalogVmEntity(base, n)))]));
      return sendWire(request, reply, 200, entityReferences(names.map((n) => catalogVmRef(base, n))));
    });
    app.get('/api/catalog/vms/:vmname', { schema: { summary: 'One catalog VM' } }, async (request, reply) => {
      const { vmname } = request.params as { vmname: string };
      const points = await scopedPointsOf(ctx, request.principal!, vmname);
      if (points.length === 0) throw notFound(`No catalog for VM ${vmname}`);
      const base = apiBase(request);
      if (!wantsEntity(request)) return sendWire(request, reply, 200, catalogVmRef(base, vmname, 'EntityRef'));
      return sendWire(request, reply, 200, catalogVmEntity(base, vmname));
    });
    app.get('/api/catalog/vms/:vmname/vmRestorePoints', { schema: { summary: 'Restore points of a catalog VM' } }, async (request, reply) => {
      const { vmname } = request.params as { vmname: string };
      const points = await scopedPointsOf(ctx, request.principal!, vmname);
      const base = apiBase(request);
      if (wantsEntity(request)) return sendWire(request, reply, 200, el('CatalogVmRestorePoints', [], [list(null, 'CatalogVmRestorePoints', points.map((r) => pointEntity(base, r)))]));
      return sendWire(request, reply, 200, entityReferences(points.map((r) => pointRef(base, r))));
    });
    async function catalogPoint(request: import('fastify').FastifyRequest): Promise<VmRestorePointRecord> {
      const { vmname, id } = request.params as { vmname: string; id: string };
      const r = await findVmRestorePoint(ctx, id);
      if (!r || r.vmName !== vmname) throw notFound(`Restore point ${id} of VM ${vmname} was not found`);
      await assertPointVisible(ctx, request.principal!, r);
      return r;
    }
    app.get('/api/catalog/vms/:vmname/vmRestorePoints/:id', { schema: { summary: 'One catalog restore point' } }, async (request, reply) => {
      const r = await catalogPoint(request);
      const base = apiBase(request);
      return sendWire(request, reply, 200, wantsEntity(request) ? pointEntity(base, r) : pointRef(base, r, 'EntityRef'));
    });
    // post_catalog_vms_vmname_vmrestorepoints_id_actoinbrowse.md: 200 (not 202) with the BrowseVM task, which links Down
    // to the point's guest file system (scenario_1_click_restore.md). openem's guestfs needs no mount: the task opens
    // the point's filesystems to check they read, and ends at once (failed, with the reason, when they do not).
    app.post('/api/catalog/vms/:vmname/vmRestorePoints/:id', { schema: { summary: "Make a catalog point's guest files available for browsing (?action=browse)" } }, async (request, reply) => {
      const action = (request.query as Record<string, string | undefined>).action;
      if (action !== 'browse') throw badRequest(`POST /catalog/vms/{vmname}/vmRestorePoints/{ID} needs ?action=browse (got ${action === undefined ? 'no action' : `'${action}'`})`);
      const r = await catalogPoint(request);
      const p = request.principal!;
      const submitted = await auditedRequest(
        ctx, request, { what: 'browse-catalog', target: `${r.vmName} ${r.id}` },
        () => ctx.tasks.submit({ operation: 'BrowseVM', kind: 'catalog-browse', accountId: p.account.id, payload: { vmRestorePointId: r.id } }, async (run) => {
          const opened = await openRestorePointFilesystem(ctx, r.id);
          try {
            opened.locate('/');
          } finally {
            await opened.close();
          }
          await run.setRelated({ kind: 'catalogGuestFs', vmName: r.vmName, vmRestorePointId: r.id });
          // The page's finished task: `<Result Success="true" />`, no Message.
          return { message: '' };
        }),
        (t) => ({ target: `${r.vmName} ${r.id} (${t.taskId})` }),
      );
      // Opening reads a few blocks per disk: answer with the task as it ends, as the page shows it (Finished, linking
      // the file system), unless it takes longer than a moment; the client then polls it as any task.
      let task = submitted;
      for (let i = 0; i < 100 && task.state !== 'Finished'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        task = (await ctx.tasks.get(submitted.taskId)) ?? task;
      }
      return sendWire(request, reply, 200, taskElement(apiBase(request), task));
    });
    app.get('/api/openem/catalog/vms/:vmname/vmRestorePoints/:id/indexState', { schema: { summary: "openem: whether a catalog point's guest files were indexed" } }, async (request, reply) =>
      sendOpenemWire(request, reply, 200, indexStateElement(apiBase(request), await catalogPoint(request))),
    );
    app.get('/api/catalog/search', { schema: { summary: 'openem: find guest files by name (* wildcards) across indexed restore points' } }, async (request, reply) => {
      const q = request.query as Record<string, string | undefined>;
      if (!q.name) throw badRequest("Query parameter 'name' is required");
      const visible = q.vm ? await scopedPointsOf(ctx, request.principal!, q.vm) : await visiblePoints(ctx, request.principal!);
      const hits = await searchCatalog(ctx, q.name, visible.map((r) => r.id), 1000);
      const byId = new Map(visible.map((r) => [r.id, r]));
      const base = apiBase(request);
      const items = hits.map((h) => {
        const r = byId.get(h.vmRestorePointId)!;
        const browse = `${vmPath(base, r.vmName)}/vmRestorePoints/${r.id}/guestfs/${guestPathToUrl(h.guestPath)}`;
        return el('CatalogFile', [], [
          links([
            { rel: 'Related', type: 'CatalogVmRestorePointReference', href: `${vmPath(base, r.vmName)}/vmRestorePoints/${r.id}`, name: vmRestorePointName(r) },
            { rel: 'Browse', href: browse },
            { rel: 'Restore', href: `${browse}?action=restore` },
          ]),
          text('Path', h.guestPath),
          text('Name', h.name),
          text('Type', h.type),
          text('Size', h.size),
          text('ModifiedDateUTC', isoUtc(h.mtime)),
          text('VmName', r.vmName),
        ]);
      });
      // openem's own resource (no EM counterpart): openem's namespace.
      return sendOpenemWire(request, reply, 200, el('CatalogFiles', [['Type', OPENEM_TYPES.catalogFiles]], [list(null, 'CatalogFiles', items)]));
    });
  };
}
