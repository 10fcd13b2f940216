import { badRequest } from '../errors.js';
import type { AppContext } from '../services/app-services.js';
import type { VmRestorePointRecord } from '../services/inventory/restore-point-records.js';
import { findVmRestorePoint } from '../services/inventory/restore-point-records.js';
import { keepOriginalName, type VmRestoreRequest } from '../services/restore-vm/vm-restore-request.js';
import { choice, opt, req, seq, type BodySpec, type ParsedObject } from './wire/body-spec.js';

/**
 * `RestoreSpec` (seed 001, em-api.md §4): a choice of which openem serves `VmRestoreSpec`. One sequence
 * covers both flavours the seed shows — vSphere/Hyper-V (`PowerOnAfterRestore`, `QuickRollback`,
 * `KeepOriginalVM`) and Cloud Director (`PowerOnAfterRestore`, `HierarchyRootUid`, `QuickRollback`,
 * `VmRestoreParameters`) — in XSD order; which elements a VM may use is checked after parsing.
 */
const VM_RESTORE_PARAMETERS = seq(
  req('VmRestorePointUid', 'string', 256),
  opt('VmNewName', 'string', 255),
  opt('DatastoreRef', 'string', 512),
  opt('OrgVdcStorageProfileRef', 'string', 512),
  opt('LinkedCloneVmTemplateRef', 'string', 512),
);

export const RESTORE_SPEC: BodySpec = {
  root: 'RestoreSpec',
  content: choice(
    req(
      'VmRestoreSpec',
      seq(
        req('PowerOnAfterRestore', 'boolean'),
        opt('HierarchyRootUid', 'string', 256),
        opt('QuickRollback', 'boolean'),
        opt('KeepOriginalVM', 'boolean'),
        opt('VmRestoreParameters', VM_RESTORE_PARAMETERS),
      ),
    ),
    // The Cloud Director body of v1_4-era clients (XSD vCloudVmRestoreSpecInfoType, in its order).
    req(
      'vCloudVmRestoreSpec',
      seq(
        opt('PowerOnAfterRestore', 'boolean'),
        req('HierarchyRootUid', 'string', 256),
        req('vAppRef', 'string', 512),
        req('VmRestoreParameters', VM_RESTORE_PARAMETERS),
      ),
    ),
  ),
};

const HIERARCHY_ROOT_UID = /^urn:veeam:HierarchyRoot:([A-Za-z0-9_-]+)$/i;
const VM_RESTORE_POINT_UID = /^urn:veeam:VmRestorePoint:([A-Za-z0-9_-]+)$/i;
/** `urn:vCloud:Datastore:<root>.urn:vcloud:datastore:<id>` (seed 001; em-api.md §3 HierarchyObjRefType). */
const VCLOUD_DATASTORE_REF = /^urn:vCloud:Datastore:([A-Za-z0-9_-]+)\.urn:vcloud:datastore:([A-Za-z0-9_-]+)$/i;

const rule = (text: string) => badRequest(`RestoreSpec rule: ${text}`);

/** A new VM's name is also its folder name; it must be usable and free before a task is created. */
async function assertNewVmName(ctx: AppContext, name: string): Promise<void> {
  if (name.length > 128 || name.trim() !== name || name.startsWith('.') || name.includes('..') || /[/\\\0]/.test(name)) {
    throw rule(`VmNewName '${name}' cannot be a VM name (at most 128 characters, no '/', '\\', '..', leading dot or surrounding spaces)`);
  }
  if (await ctx.platform.findVm(name)) throw rule(`a VM named '${name}' already exists; choose another VmNewName or remove it`);
}

/**
 * Turns a parsed RestoreSpec into a restore request, applying seed 001's platform rules. Each refusal is a
 * 400 naming its rule, raised before any task exists. No body (seed 003 posts none) is a plain restore to
 * the original VM: no power-on, no QuickRollback.
 */
export async function toVmRestoreRequest(ctx: AppContext, point: VmRestorePointRecord, body: ParsedObject | undefined): Promise<VmRestoreRequest> {
  if (!body) return { vmRestorePointId: point.id, powerOnAfterRestore: false, quickRollback: false, target: { kind: 'original' } };
  if (body.vCloudVmRestoreSpec) return toLegacyCloudDirectorRequest(ctx, point, body.vCloudVmRestoreSpec as ParsedObject);
  const spec = body.VmRestoreSpec as ParsedObject;
  const powerOn = spec.PowerOnAfterRestore as boolean;
  const quickRollback = spec.QuickRollback as boolean | undefined;
  const keepOriginal = spec.KeepOriginalVM as boolean | undefined;
  if (keepOriginal === true && quickRollback === true) throw rule('KeepOriginalVM true requires QuickRollback false (seed 001)');

  if (point.platform !== 'vcloud') {
    const where = `VM ${point.vmName} is a ${point.platform === 'hyperv' ? 'Hyper-V' : 'vSphere'} VM`;
    if (quickRollback === undefined) throw rule(`QuickRollback is required for vSphere and Hyper-V VMs (${where})`);
    if (spec.HierarchyRootUid !== undefined) throw rule(`HierarchyRootUid belongs to Cloud Director VMs only (${where})`);
    if (spec.VmRestoreParameters !== undefined) throw rule(`VmRestoreParameters belongs to Cloud Director VMs only (${where})`);
    if (keepOriginal) await assertNewVmName(ctx, keepOriginalName(point.vmName));
    return {
      vmRestorePointId: point.id,
      powerOnAfterRestore: powerOn,
      quickRollback,
      target: keepOriginal ? { kind: 'new-vm', name: keepOriginalName(point.vmName) } : { kind: 'original' },
    };
  }
  return toCloudDirectorRequest(ctx, point, spec, powerOn, quickRollback === true);
}

/** `urn:vCloud:Vapp:<root>.<vApp>` (constructing_hierarchyobjreftype.md). */
const VCLOUD_VAPP_REF = /^urn:vCloud:Vapp:([A-Za-z0-9_-]+)\.\S+$/i;

/**
 * `vCloudVmRestoreSpec` (XSD, v1_4): the same restore as the 13.x Cloud Director `VmRestoreSpec`, without
 * QuickRollback, and with `vAppRef` naming the vApp to restore into. openem's platforms keep no vApps, so the
 * reference must be a vApp URN on the same hierarchy root and the VM is restored where VmRestoreParameters say.
 */
async function toLegacyCloudDirectorRequest(ctx: AppContext, point: VmRestorePointRecord, spec: ParsedObject): Promise<VmRestoreRequest> {
  if (point.platform !== 'vcloud') throw rule(`vCloudVmRestoreSpec belongs to Cloud Director VMs only (VM ${point.vmName} is a ${point.platform === 'hyperv' ? 'Hyper-V' : 'vSphere'} VM)`);
  const vAppRoot = VCLOUD_VAPP_REF.exec(String(spec.vAppRef))?.[1];
  const root = HIERARCHY_ROOT_UID.exec(String(spec.HierarchyRootUid))?.[1];
  if (!vAppRoot) throw rule(`vAppRef '${spec.vAppRef}' is not a Cloud Director vApp reference (urn:vCloud:Vapp:<root>.<vApp>)`);
  if (!root || vAppRoot.toLowerCase() !== root.toLowerCase()) throw rule(`vAppRef '${spec.vAppRef}' is not on hierarchy root ${spec.HierarchyRootUid}`);
  return toCloudDirectorRequest(ctx, point, spec, spec.PowerOnAfterRestore === true, false);
}

async function toCloudDirectorRequest(ctx: AppContext, point: VmRestorePointRecord, spec: ParsedObject, powerOn: boolean, quickRollback: boolean): Promise<VmRestoreRequest> {
  const where = `VM ${point.vmName} is a Cloud Director VM`;
  if (spec.KeepOriginalVM !== undefined) throw rule(`KeepOriginalVM is not used for Cloud Director VMs; give VmRestoreParameters/VmNewName instead (${where})`);
  if (spec.HierarchyRootUid === undefined) throw rule(`HierarchyRootUid is required for Cloud Director VMs (${where})`);
  if (spec.VmRestoreParameters === undefined) throw rule(`VmRestoreParameters is required for Cloud Director VMs (${where})`);
  const params = spec.VmRestoreParameters as ParsedObject;

  const rootId = HIERARCHY_ROOT_UID.exec(String(spec.HierarchyRootUid))?.[1];
  const root = rootId ? (await ctx.platform.hierarchyRoots()).find((r) => r.id.toLowerCase() === rootId.toLowerCase()) : undefined;
  if (!root) throw rule(`HierarchyRootUid '${spec.HierarchyRootUid}' is not a known hierarchy root`);
  if (root.platform !== 'vcloud') throw rule(`HierarchyRootUid '${spec.HierarchyRootUid}' is not a Cloud Director host`);

  const pointId = VM_RESTORE_POINT_UID.exec(String(params.VmRestorePointUid))?.[1];
  const named = pointId ? await findVmRestorePoint(ctx, pointId) : undefined;
  if (!named) throw rule(`VmRestorePointUid '${params.VmRestorePointUid}' is not a known VM restore point`);
  if (named.vmId !== point.vmId) throw rule(`VmRestorePointUid '${params.VmRestorePointUid}' is a restore point of VM ${named.vmName}, not of ${point.vmName}`);

  let datastoreId: string | undefined;
  const dsRef = params.DatastoreRef === undefined || params.DatastoreRef === '' ? undefined : String(params.DatastoreRef);
  if (dsRef !== undefined) {
    const m = VCLOUD_DATASTORE_REF.exec(dsRef);
    const ds = m ? (await ctx.platform.datastores()).find((d) => d.id.toLowerCase() === m[2].toLowerCase()) : undefined;
    if (!m || !ds) throw rule(`DatastoreRef '${dsRef}' is not a known datastore`);
    if (ds.hierarchyRootId !== root.id || m[1].toLowerCase() !== root.id.toLowerCase()) throw rule(`DatastoreRef '${dsRef}' is not on hierarchy root ${root.name}`);
    datastoreId = ds.id;
  }

  const newName = params.VmNewName === undefined || params.VmNewName === '' ? undefined : String(params.VmNewName);
  // "If this parameter is not specified, the VM is restored with its initial name" (seed 001): in place.
  if (newName === undefined) {
    if (root.id !== point.hierarchyRootId) throw rule(`restoring VM ${point.vmName} in place needs its own hierarchy root; give VmNewName to restore it to ${root.name}`);
    return { vmRestorePointId: named.id, powerOnAfterRestore: powerOn, quickRollback, target: { kind: 'original' } };
  }
  if (quickRollback) throw rule('QuickRollback true cannot build a new VM (VmNewName); set it to false');
  await assertNewVmName(ctx, newName);
  return {
    vmRestorePointId: named.id,
    powerOnAfterRestore: powerOn,
    quickRollback: false,
    target: { kind: 'new-vm', name: newName, datastoreId: datastoreId ?? (await ctx.platform.datastores()).find((d) => d.hierarchyRootId === root.id)?.id },
  };
}
