import { useEffect, useState } from 'preact/hooks';
import { api, call, get, link, message, type Task } from '../api/client.js';
import { ConfirmDialog } from '../confirm-dialog.js';
import { PLATFORM_NAME, lastSegment, rootIdOf, utc } from '../format.js';
import { go } from '../route.js';
import { sessionOfTask } from './restore-session-watch.js';
import type { VmPoints } from './vm-points.js';

type Point = VmPoints['points'][number];

interface Options {
  quickRollback: boolean;
  keepOriginal: boolean;
  powerOn: boolean;
  /** Cloud Director: restore under a new name (VmRestoreParameters/VmNewName), on a datastore of the chosen root. */
  newName: string;
  rootUid: string;
  datastoreRef: string;
}

/**
 * The seed 001 RestoreSpec for the VM's platform. vSphere and Hyper-V: PowerOnAfterRestore, QuickRollback,
 * KeepOriginalVM. Cloud Director: PowerOnAfterRestore, HierarchyRootUid, QuickRollback and VmRestoreParameters
 * (the point, and a new name and datastore when not restoring in place).
 */
export function restoreSpec(vm: VmPoints, point: Point, o: Options): unknown {
  if (vm.platform !== 'vcloud') {
    return { VmRestoreSpec: { PowerOnAfterRestore: o.powerOn, QuickRollback: o.quickRollback, ...(o.keepOriginal ? { KeepOriginalVM: true } : {}) } };
  }
  return {
    VmRestoreSpec: {
      PowerOnAfterRestore: o.powerOn,
      HierarchyRootUid: o.rootUid,
      QuickRollback: o.quickRollback,
      VmRestoreParameters: {
        VmRestorePointUid: point.UID,
        ...(o.newName.trim() ? { VmNewName: o.newName.trim() } : {}),
        ...(o.newName.trim() && o.datastoreRef ? { DatastoreRef: o.datastoreRef } : {}),
      },
    },
  };
}

function describe(vm: VmPoints, o: Options): string {
  const target = vm.platform === 'vcloud' ? (o.newName.trim() ? `a new VM named ${o.newName.trim()}` : `VM ${vm.vmName} in place`) : o.keepOriginal ? `a new VM named ${vm.vmName}_restored, keeping ${vm.vmName}` : `VM ${vm.vmName} in place, replacing its disks`;
  const how = o.quickRollback ? ' with QuickRollback (only the blocks that differ)' : '';
  return `${target}${how}${o.powerOn ? ', then power it on' : ''}`;
}

export function VmRestoreForm({ vm, point, onClose }: { vm: VmPoints; point: Point; onClose: () => void }) {
  const defaultRoot = `urn:veeam:HierarchyRoot:${rootIdOf(vm.hierarchyObjRef) ?? ''}`;
  const [o, setO] = useState<Options>({ quickRollback: false, keepOriginal: false, powerOn: false, newName: '', rootUid: defaultRoot, datastoreRef: '' });
  const [roots, setRoots] = useState<{ UID: string; Name: string }[]>([]);
  const [datastores, setDatastores] = useState<{ ObjectRef: string; ObjectName: string }[]>([]);
  const [error, setError] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<Options>) => setO({ ...o, ...patch });

  // Cloud Director targets: the Cloud Director hierarchy roots, and the datastores the lookup service names on the chosen one.
  useEffect(() => {
    if (vm.platform !== 'vcloud') return;
    get(api('/hierarchyRoots?format=Entity')).then((r) => setRoots((r.HierarchyRoots ?? []).filter((h: any) => h.HostType === 'VcdSystem')), () => setRoots([]));
  }, [vm.platform]);
  useEffect(() => {
    if (vm.platform !== 'vcloud' || !o.rootUid) return;
    get(api(`/lookup?host=${encodeURIComponent(o.rootUid)}&type=Datastore&name=*`)).then((r) => setDatastores(r.HierarchyItems ?? []), () => setDatastores([]));
  }, [vm.platform, o.rootUid]);

  const restore = async () => {
    setConfirming(false);
    setError('');
    setBusy(true);
    try {
      const restoreLink = link(point, 'Restore');
      if (!restoreLink) throw new Error('This restore point offers no restore');
      const task = await call<Task>('POST', restoreLink.Href, restoreSpec(vm, point, o));
      // The task links the restore session once the work is queued; the Sessions view follows it live.
      const session = await sessionOfTask(task);
      go('sessions', { session: session ? lastSegment(session.Href) : undefined });
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };

  const cb = (id: string, label: string, key: 'quickRollback' | 'keepOriginal' | 'powerOn', hint?: string) => (
    <label class="check">
      <input type="checkbox" id={id} checked={o[key]} onChange={(e) => set({ [key]: e.currentTarget.checked })} /> {label}
      {hint && <span class="hint">{hint}</span>}
    </label>
  );
  return (
    <form class="restore-form" aria-label={`Restore ${vm.vmName}`} onSubmit={(e) => { e.preventDefault(); setConfirming(true); }}>
      <h3>Entire VM restore from {point.PointType} {utc(point.CreationTimeUTC)}</h3>
      <p class="muted">{PLATFORM_NAME[vm.platform]} VM: the options of seed 001 for this platform.</p>
      <fieldset>
        <legend>Options</legend>
        {cb('quick-rollback', 'QuickRollback', 'quickRollback', 'write only the blocks that differ from the restore point')}
        {vm.platform !== 'vcloud' && cb('keep-original', 'Keep the original VM', 'keepOriginal', `restore as a new VM, ${vm.vmName}_restored`)}
        {cb('power-on', 'Power on after restore', 'powerOn')}
      </fieldset>
      {vm.platform === 'vcloud' && (
        <fieldset>
          <legend>Cloud Director</legend>
          <label>Hierarchy root
            <select id="hierarchy-root" value={o.rootUid} onChange={(e) => set({ rootUid: e.currentTarget.value, datastoreRef: '' })}>
              {roots.length === 0 && <option value={o.rootUid}>{o.rootUid}</option>}
              {roots.map((r) => <option value={r.UID}>{r.Name}</option>)}
            </select>
          </label>
          <label>New VM name <span class="hint">empty: restore {vm.vmName} in place</span>
            <input id="vm-new-name" value={o.newName} onInput={(e) => set({ newName: e.currentTarget.value })} maxLength={128} />
          </label>
          <label>Datastore
            <select id="datastore" value={o.datastoreRef} disabled={!o.newName.trim()} onChange={(e) => set({ datastoreRef: e.currentTarget.value })}>
              <option value="">the root's first datastore</option>
              {datastores.map((d) => <option value={d.ObjectRef}>{d.ObjectName}</option>)}
            </select>
          </label>
        </fieldset>
      )}
      <p class="error" id="restore-error" role="alert">{error}</p>
      <div class="actions">
        <button type="button" onClick={onClose}>Close</button>
        <button type="submit" class="primary" id="restore-vm" disabled={busy}>{busy ? 'Starting…' : 'Restore VM…'}</button>
      </div>
      <ConfirmDialog open={confirming} title={`Restore VM ${vm.vmName}?`} confirmLabel="Restore" danger={!o.keepOriginal && !o.newName.trim()} onConfirm={restore} onCancel={() => setConfirming(false)}>
        <p>From the {point.PointType} restore point of {utc(point.CreationTimeUTC)} to {describe(vm, o)}.</p>
      </ConfirmDialog>
    </form>
  );
}
