import assert from 'node:assert/strict';
import { EmClient, findLink, openemDetails, waitFor, type Format } from '../helpers/em-client.js';
import { LocalPlatform } from '../../src/platform/local/local-platform.js';
import { backUpWithReference, createVm, mixedBlocks, openTestApp } from '../services/restore-vm/restore-fixtures.js';
import type { PresentedPlatform } from '../../src/platform/platform.js';
import { tempDir, type Cleanup } from '../helpers/cleanup.js';

export interface PreparedVm {
  name: string;
  pointId: string;
  /** Copy of disk0 at backup time. */
  reference: string;
}

/**
 * Fills a data directory before the server starts: VMs with generated disks (random, text and zero blocks),
 * each backed up once, with a copy of each disk as it was at backup time. `cleanup` removes both folders;
 * a server started on the data directory must be deferred to it after this, so it stops first.
 */
export async function prepareDataDir(cleanup: Cleanup, vms: { name: string; blocks: number; platform?: PresentedPlatform }[]): Promise<{ dataDir: string; vms: Record<string, PreparedVm> }> {
  const refs = tempDir(cleanup, 'openem-e2e-refs-');
  const app = await openTestApp(cleanup);
  const out: Record<string, PreparedVm> = {};
  for (const v of vms) {
    await createVm(app.ctx, v.name, mixedBlocks(v.blocks), v.platform ?? 'vsphere');
    const { pointId, reference } = await backUpWithReference(app.ctx, v.name, refs);
    out[v.name] = { name: v.name, pointId, reference };
  }
  await app.close();
  return { dataDir: app.dataDir, vms: out };
}

/** The root of a parsed body: XML wraps it in its element name (some parsed as arrays), JSON does not. */
export function rootOf(body: any, format: Format, name: string): any {
  if (format === 'json') return body;
  assert.ok(body?.[name], `expected <${name}>, got ${JSON.stringify(body)?.slice(0, 300)}`);
  return Array.isArray(body[name]) ? body[name][0] : body[name];
}

/** Polls a task until Finished; returns it. */
export async function waitForTask(c: EmClient, href: string): Promise<any> {
  return waitFor('task to finish', async () => {
    const r = await c.get(href);
    assert.equal(r.status, 200, r.text);
    const t = rootOf(r.body, c.format, 'Task');
    return t.State === 'Finished' ? t : undefined;
  });
}

/** Follows a finished task's Related link to its restore session and polls it until Stopped. */
export async function waitForSession(c: EmClient, task: any, timeoutMs = 120_000): Promise<any> {
  const related = findLink(task, 'Related', 'RestoreSession');
  assert.ok(related, 'a finished restore task links its restore session');
  return waitFor(
    'restore session to stop',
    async () => {
      const r = await c.get(related.Href);
      assert.equal(r.status, 200, r.text);
      const s = rootOf(r.body, c.format, 'RestoreSession');
      return s.State === 'Stopped' ? s : undefined;
    },
    timeoutMs,
  );
}

/** The session's log lines in either format, from openem's own RestoreSessionLog the session links to. */
export async function logLines(c: EmClient, session: any): Promise<string[]> {
  const log = (await openemDetails(c, session, 'RestoreSessionLog')).Log;
  const records = Array.isArray(log) ? log : log?.LogRecord ? (Array.isArray(log.LogRecord) ? log.LogRecord : [log.LogRecord]) : [];
  return records.map((r: any) => String(r.Text));
}

export async function diskPathOf(dataDir: string, vmName: string): Promise<string> {
  const platform = await LocalPlatform.open(dataDir);
  const vm = await platform.findVm(vmName);
  assert.ok(vm, `VM ${vmName} exists`);
  return platform.diskImagePath(vm.id, 'disk0');
}

export async function powerStateOf(dataDir: string, vmName: string): Promise<string | undefined> {
  return (await (await LocalPlatform.open(dataDir)).findVm(vmName))?.powerState;
}

/** Seed 003 steps 1-5: log on, follow VmRestorePointReferenceList, pick the VM's point, GET its entity. */
export async function findPointEntity(c: EmClient, vmName: string): Promise<any> {
  const logon = await c.logOn();
  assert.equal(logon.status, 201);
  const down = findLink(rootOf(logon.body, c.format, 'LogonSession'), 'Down', 'VmRestorePointReferenceList');
  assert.ok(down, 'the logon session links the VM restore points (seed 003 step 2)');
  const list = await c.get(down.Href);
  assert.equal(list.status, 200);
  const refs: any[] = c.format === 'xml' ? list.body.EntityReferences.Ref : list.body.Refs;
  const ref = refs.find((r) => String(r.Name).startsWith(`${vmName}@`));
  assert.ok(ref, `a point of ${vmName} is listed`);
  const alt = findLink(ref, 'Alternate', 'VmRestorePoint');
  const entity = await c.get(alt!.Href);
  assert.equal(entity.status, 200);
  return rootOf(entity.body, c.format, 'VmRestorePoint');
}

/** Seed 001's Cloud Director body of a v1_4 client (RestoreSpec/vCloudVmRestoreSpec), in either format. */
export function vcloudRestoreBody(format: Format, a: { rootUid: string; datastoreRef: string; pointId: string; newName: string; powerOn: boolean; vAppRef: string }): string {
  const pointUid = `urn:veeam:VmRestorePoint:${a.pointId}`;
  if (format === 'json') {
    return JSON.stringify({
      vCloudVmRestoreSpec: {
        PowerOnAfterRestore: a.powerOn,
        HierarchyRootUid: a.rootUid,
        vAppRef: a.vAppRef,
        VmRestoreParameters: { VmRestorePointUid: pointUid, VmNewName: a.newName, DatastoreRef: a.datastoreRef },
      },
    });
  }
  return `<?xml version="1.0" encoding="utf-8"?>
<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <vCloudVmRestoreSpec>
    <PowerOnAfterRestore>${a.powerOn}</PowerOnAfterRestore>
    <HierarchyRootUid>${a.rootUid}</HierarchyRootUid>
    <vAppRef>${a.vAppRef}</vAppRef>
    <VmRestoreParameters>
      <VmRestorePointUid>${pointUid}</VmRestorePointUid>
      <VmNewName>${a.newName}</VmNewName>
      <DatastoreRef>${a.datastoreRef}</DatastoreRef>
    </VmRestoreParameters>
  </vCloudVmRestoreSpec>
</RestoreSpec>`;
}
