// openem's answers have the shape of the whole examples of the 13.0.1 pages (issue #10 "How it is checked"):
// for each page example of a resource openem serves, the JSON has the same keys in the same order with the same
// types, the XML the same elements in the same order and nesting with the same attributes; links appear in EM's
// order and with EM's Rel, Type and attributes, a subset where openem serves fewer (no Edit, Clone, …).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';

const PAGES = join(import.meta.dirname, '../reference/em13');

/** The whole examples of a page, in order: JSON objects of its table cells, and XML bodies that close their root on the same line. */
function examples(page: string): { json: unknown[]; xml: string[] } {
  const text = readFileSync(join(PAGES, page), 'utf8').replace(/\u00a0/g, ' ');
  const json: unknown[] = [];
  const xml: string[] = [];
  for (const line of text.split('\n')) {
    const cell = /^\| (\{.*\}) \|$/.exec(line.trim());
    if (cell) json.push(JSON.parse(cell[1]));
    for (const m of line.matchAll(/Response Body: {2}(<([A-Za-z]+) [^|]*<\/\2>) \|/g)) xml.push(m[1]);
  }
  return { json, xml };
}

type Shape = string[];

function typeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** EM's JSON writes null for what a resource lacks (em-clients.md "Reading"): openem's null stands for any value there. */
function compareJson(example: unknown, ours: unknown, path: string, out: Shape): void {
  if (ours === null || example === null) return;
  if (typeOf(example) !== typeOf(ours)) return void out.push(`${path}: ${typeOf(ours)} where EM has ${typeOf(example)}`);
  if (Array.isArray(example) && Array.isArray(ours)) {
    if (path.endsWith('.Links')) return compareLinks(example as any[], ours as any[], path, out, (l) => Object.keys(l));
    for (const [i, item] of ours.entries()) if (example.length > 0) compareJson(example[0], item, `${path}[${i}]`, out);
    return;
  }
  if (typeof example === 'object') {
    const e = example as Record<string, unknown>;
    const o = ours as Record<string, unknown>;
    if (Object.keys(e).join() !== Object.keys(o).join()) out.push(`${path}: keys ${Object.keys(o).join(',')} where EM has ${Object.keys(e).join(',')}`);
    for (const k of Object.keys(e)) if (k in o) compareJson(e[k], o[k], `${path}.${k}`, out);
    return;
  }
  if (path.endsWith('.Type') && example !== ours) out.push(`${path}: Type ${String(ours)} where EM has ${String(example)}`);
}

/**
 * Links openem gives beyond a page's example, each with why: a CatalogVmRestorePoint's guestfs can be browsed by GET
 * (seed 000) without EM's browse task first, so it links Down there too.
 */
const EXTRA_LINKS = [{ rel: 'Down', type: 'FileSystemEntries', why: 'catalog points are also browsed by GET on guestfs, with no browse task needed' }];

/** Our links are EM's in EM's order (some may be missing), each with EM's attributes for that Rel and Type. */
function compareLinks(example: any[], ours: any[], path: string, out: Shape, attrs: (l: any) => string[]): void {
  let at = 0;
  for (const l of ours) {
    if (String(l.Rel).startsWith('openem:')) continue; // openem's own resources, after EM's (README)
    if (EXTRA_LINKS.some((x) => x.rel === l.Rel && x.type === l.Type)) continue;
    const i = example.findIndex((e, j) => j >= at && e.Rel === l.Rel && e.Type === l.Type);
    if (i < 0) {
      out.push(`${path}: link ${l.Rel} ${l.Type ?? ''} is not among EM's, in EM's order (${example.map((e) => `${e.Rel} ${e.Type ?? ''}`).join(', ')})`);
      continue;
    }
    if (attrs(example[i]).join() !== attrs(l).join()) out.push(`${path}: link ${l.Rel} ${l.Type ?? ''} has ${attrs(l).join(',')} where EM has ${attrs(example[i]).join(',')}`);
    at = i + 1;
  }
}

const xmlParser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false });
type XmlNode = Record<string, any>;
const tagOf = (n: XmlNode) => Object.keys(n).find((k) => k !== ':@')!;
const attrNames = (n: XmlNode) => Object.keys(n[':@'] ?? {}).filter((a) => !a.startsWith('xmlns'));
const elementsOf = (nodes: XmlNode[]) => nodes.filter((n) => !('#text' in n) && !tagOf(n).startsWith('?'));

function compareXml(example: XmlNode, ours: XmlNode, path: string, out: Shape): void {
  if (attrNames(example).join() !== attrNames(ours).join()) out.push(`${path}: attributes ${attrNames(ours).join(',')} where EM has ${attrNames(example).join(',')}`);
  const e = elementsOf(example[tagOf(example)]);
  const o = elementsOf(ours[tagOf(ours)]);
  if (tagOf(example) === 'Links') {
    const flat = (nodes: XmlNode[]) => nodes.map((n) => ({ ...n[':@'], node: n }));
    return compareLinks(flat(e), flat(o), path, out, (l) => attrNames(l.node));
  }
  if (e.map(tagOf).join() !== o.map(tagOf).join()) out.push(`${path}: children ${o.map(tagOf).join(',')} where EM has ${e.map(tagOf).join(',')}`);
  for (const [i, c] of o.entries()) {
    const match = e[i] && tagOf(e[i]) === tagOf(c) ? e[i] : e.find((x) => tagOf(x) === tagOf(c));
    if (match) compareXml(match, c, `${path}/${tagOf(c)}`, out);
  }
}

const rootOfXml = (text: string) => elementsOf(xmlParser.parse(text))[0];

let server: ServerProcess;
let work: string;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'openem-pages-'));
  const dataDir = join(work, 'data');
  mkdirSync(join(work, 'src', 'etc'), { recursive: true });
  writeFileSync(join(work, 'src', 'etc', 'hostname'), 'crm01\n');
  await cliOk(dataDir, ['vm', 'create', 'crm01', '--from-dir', join(work, 'src'), '--size', '64M', '--platform', 'vsphere']);
  await cliOk(dataDir, ['job', 'create', 'CRM Backup', '--vm', 'crm01']);
  await cliOk(dataDir, ['backup', 'crm01', '--job', 'CRM Backup']);
  server = await startServerProcess({ dataDir });
});

after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function client(format: 'xml' | 'json') {
  const c = new EmClient(server.http, format);
  assert.equal((await c.logOn()).status, 201);
  return c;
}

const jobId = async (c: EmClient) => {
  const body = (await c.get(`${server.http}/api/jobs`)).body;
  return (body.Refs ?? body.EntityReferences.Ref).find((r: any) => r.Name === 'CRM Backup').UID.split(':').pop();
};

test('JSON: a BackupServerReference, a JobReference and a Job entity have the keys, order and types of the pages\' examples', async () => {
  const c = await client('json');
  const diffs: Shape = [];
  const [serverRef] = examples('resource_representations.md').json;
  const servers = (await c.get(`${server.http}/api/backupServers`)).body.Refs;
  compareJson(serverRef, (await c.get(servers[0].Href)).body, 'BackupServerReference', diffs);
  const [jobRef, jobEntity] = examples('resource_representation_for_ke.md').json;
  const id = await jobId(c);
  compareJson(jobRef, (await c.get(`${server.http}/api/jobs/${id}`)).body, 'JobReference', diffs);
  compareJson(jobEntity, (await c.get(`${server.http}/api/jobs/${id}?format=Entity`)).body, 'Job', diffs);
  assert.deepEqual(diffs, []);
});

test('XML: the logon session, tasks, lookup items, catalog entities and a restore session have the elements and attributes of the pages\' examples', async () => {
  const c = await client('xml');
  const base = `${server.http}/api`;
  const diffs: Shape = [];
  const check = (page: string, i: number, text: string) => {
    const ex = examples(page).xml[i];
    assert.ok(ex, `${page} has example ${i}`);
    compareXml(rootOfXml(ex), rootOfXml(text), `${page}#${i}`, diffs);
  };
  check('logging_on.md', 0, (await c.logOn()).text);

  // A job start: the task as post_jobs_id_actionstart.md shows it once finished.
  const start = await c.request('POST', `${base}/jobs/${await jobId(c)}?action=start`);
  const startTask = await waitFor('the start task', async () => {
    const r = await c.get(start.body.Task.Href);
    return r.body.Task.State === 'Finished' ? r : undefined;
  });
  check('post_jobs_id_actionstart.md', 0, startTask.text);
  await waitFor('the job run to end', async () => {
    const s = (await c.get(`${base}/backupSessions?format=Entity`)).body.BackupJobSessions?.BackupJobSession ?? [];
    return s.length > 1 && s.every((x: any) => x.State === 'Stopped') ? true : undefined;
  }, 120_000);

  // An entire VM restore to a new VM: the running and the finished task of post_vmrestorepoints_id_actionrestore.md.
  const point = (await c.get(`${base}/vmRestorePoints?format=Entity`)).body.VmRestorePoints.VmRestorePoint[0];
  const restore = await waitFor('the restore to be accepted', async () => {
    const r = await c.request('POST', findLink(point, 'Restore')!.Href, {
      body: '<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><VmRestoreSpec><PowerOnAfterRestore>false</PowerOnAfterRestore><QuickRollback>false</QuickRollback><KeepOriginalVM>true</KeepOriginalVM></VmRestoreSpec></RestoreSpec>',
    });
    return r.status === 409 ? undefined : r;
  });
  assert.equal(restore.status, 202, restore.text);
  check('post_vmrestorepoints_id_actionrestore.md', 0, restore.text);
  const restoreTask = await waitFor('the restore task', async () => {
    const r = await c.get(restore.body.Task.Href);
    return r.body.Task.State === 'Finished' ? r : undefined;
  });
  check('post_vmrestorepoints_id_actionrestore.md', 1, restoreTask.text);
  const sessionHref = findLink(restoreTask.body.Task, 'Related', 'RestoreSession')!.Href;
  await waitFor('the restore session to stop', async () => ((await c.get(sessionHref)).body.RestoreSession.State === 'Stopped' ? true : undefined), 120_000);

  // A mount, its tasks (post_vmrestorepoints_id_mountpoints.md), a direct download's tasks, and the FLR session it made.
  const mount = await c.request('POST', findLink(point, 'Create', 'VmRestorePointMount')!.Href, { body: '<VmRestorePointMountSpec xmlns="http://www.veeam.com/ent/v1.0"><OsKind>Linux</OsKind></VmRestorePointMountSpec>' });
  check('post_vmrestorepoints_id_mountpoints.md', 0, mount.text);
  const mountTask = await waitFor('the mount task', async () => {
    const r = await c.get(mount.body.Task.Href);
    return r.body.Task.State === 'Finished' ? r : undefined;
  });
  check('post_vmrestorepoints_id_mountpoints.md', 1, mountTask.text);
  const mountHref = findLink(mountTask.body.Task, 'Related', 'VmRestorePointMount')!.Href;
  const download = await c.request('POST', `${mountHref}/etc/hostname?action=restore`, { body: '<FileRestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><ForDirectDownload /></FileRestoreSpec>' });
  check('post_vmrestorepoints_id_mountpoints_id_filepath_actionrestore.md', 0, download.text);
  const downloadTask = await waitFor('the download task', async () => {
    const r = await c.get(download.body.Task.Href);
    return r.body.Task.State === 'Finished' ? r : undefined;
  });
  check('post_vmrestorepoints_id_mountpoints_id_filepath_actionrestore.md', 1, downloadTask.text);
  const flrSession = findLink((await c.get(mountHref)).body.VmRestorePointMount, 'Related', 'RestoreSession')!.Href;
  assert.equal((await c.request('DELETE', mountHref)).status, 204);
  const stopped = await waitFor('the FLR session to stop', async () => {
    const r = await c.get(flrSession);
    return r.body.RestoreSession.State === 'Stopped' ? r : undefined;
  });
  check('scenario_1_click_restore.md', examples('scenario_1_click_restore.md').xml.findIndex((x) => x.startsWith('<RestoreSession ')), stopped.text);

  // The lookup and the catalog (lookup_query.md, scenario_1_click_restore.md).
  const root = (await c.get(`${base}/hierarchyRoots`)).body.EntityReferences.Ref[0].UID;
  check('lookup_query.md', 0, (await c.get(`${base}/lookup?host=${root}&name=crm01&type=Vm`)).text);
  const scenario = examples('scenario_1_click_restore.md').xml;
  check('scenario_1_click_restore.md', scenario.findIndex((x) => x.startsWith('<CatalogVm ')), (await c.get(`${base}/catalog/vms/crm01?format=Entity`)).text);
  check('scenario_1_click_restore.md', scenario.findIndex((x) => x.startsWith('<CatalogVmRestorePoint ')), (await c.get(`${base}/catalog/vms/crm01/vmRestorePoints/${point.UID.split(':').pop()}?format=Entity`)).text);
  // The browse task as the scenario shows it, finished and linking Down to the guest file system.
  const browse = await c.request('POST', `${base}/catalog/vms/crm01/vmRestorePoints/${point.UID.split(':').pop()}?action=browse`);
  assert.equal(browse.status, 200, browse.text);
  const browseTask = await waitFor('the browse task', async () => {
    const r = await c.get(browse.body.Task.Href);
    return r.body.Task.State === 'Finished' ? r : undefined;
  });
  check('scenario_1_click_restore.md', scenario.findIndex((x) => x.startsWith('<Task ') && x.includes('BrowseVM')), browseTask.text);
  assert.deepEqual(diffs, []);
});
