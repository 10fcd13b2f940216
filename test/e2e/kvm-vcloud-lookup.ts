import assert from 'node:assert/strict';
import { EmClient, findLink, linksOf, type Format } from '../helpers/em-client.js';
import { rootOf } from './vm-restore-fixtures.js';

/** Hierarchy items of a lookup answer, in either format. */
export const items = (body: any, format: Format): any[] => (format === 'json' ? body.HierarchyItems : [body.HierarchyItems?.HierarchyItem ?? []].flat());

/** The Cloud Director root, its datastore and the VM, as a v1_4 client finds them through the lookup service. */
export async function lookUp(c: EmClient, format: Format, http: string, vmName: string): Promise<{ rootUid: string; datastoreRef: string }> {
  const logon = await c.logOn('admin', undefined, 'v1_4');
  assert.equal(logon.status, 201);
  const svc = await c.get(findLink(rootOf(logon.body, format, 'LogonSession'), 'Down', 'LookupService')!.Href);
  const roots = await c.get(`${http}/api/hierarchyRoots?format=Entity`);
  const list = format === 'json' ? roots.body.HierarchyRoots : [roots.body.HierarchyRoots.HierarchyRoot].flat();
  const vcd = list.find((r: any) => r.HostType === 'VcdSystem');
  assert.ok(vcd, 'the kvm platform is a Cloud Director root');
  const vmLookup = linksOf(rootOf(svc.body, format, 'LookupSvc')).find((l) => l.Rel === 'Down' && l.Href.includes(vcd.UID) && l.Href.endsWith('type=Vm'));
  assert.ok(vmLookup, 'the lookup service links a VM lookup for the root');
  const vm = items((await c.get(vmLookup.Href)).body, format).find((i) => i.ObjectName === vmName);
  assert.ok(vm, 'the KVM VM is listed on its root');
  assert.match(vm.ObjectRef, /^urn:vCloud:Vm:/);
  const [datastore] = items((await c.get(`${http}/api/lookup?host=${vcd.UID}&name=*&type=Datastore`)).body, format);
  assert.ok(datastore, 'the root has a datastore: the libvirt pool');
  return { rootUid: vcd.UID, datastoreRef: datastore.ObjectRef };
}

