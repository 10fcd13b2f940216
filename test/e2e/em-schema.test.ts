// Every XML resource openem serves validates against Enterprise Manager's schema (issue #10 "How it is checked"):
// walked from /api/ and the logon session by their Links, plus each kind of request (restore, mount, listing,
// sessions, tasks, catalog, query results, errors). Only the deviations em-schema-deviations.ts lists, each with the
// 13.0.1 page that requires it, are undone before validating; openem's own resources are in their own namespace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, linksOf, waitFor } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { DEVIATIONS, undoDeviations } from './em-schema-deviations.js';

const XSD = join(import.meta.dirname, '../reference/xsd/RestAPI.xmllint.xsd');


/** The request bodies sent, validated too: a 13.x client's RestoreSpec carries KeepOriginalVM. */
const RESTORE_SPEC = '<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><VmRestoreSpec><PowerOnAfterRestore>false</PowerOnAfterRestore><QuickRollback>false</QuickRollback><KeepOriginalVM>true</KeepOriginalVM></VmRestoreSpec></RestoreSpec>';
const MOUNT_SPEC = '<VmRestorePointMountSpec xmlns="http://www.veeam.com/ent/v1.0"><OsKind>Linux</OsKind></VmRestorePointMountSpec>';
const FILE_RESTORE_SPEC = '<FileRestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><ForDirectDownload /></FileRestoreSpec>';

let server: ServerProcess;
let work: string;
const docs: { url: string; text: string }[] = [];

function guestTree(dir: string, label: string) {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'srv'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'hostname'), `${label}\n`);
  writeFileSync(join(dir, 'srv', 'report.txt'), `report of ${label}\n`);
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'openem-schema-'));
  const dataDir = join(work, 'data');
  for (const [name, platform] of [['alpha', 'vsphere'], ['beta', 'hyperv'], ['gamma', 'vcloud']]) {
    guestTree(join(work, name), name);
    await cliOk(dataDir, ['vm', 'create', name, '--from-dir', join(work, name), '--size', '64M', '--platform', platform]);
  }
  await cliOk(dataDir, ['backup', 'alpha', 'beta', 'gamma']);
  await cliOk(dataDir, ['job', 'create', 'Nightly', '--vm', 'alpha,beta']);
  server = await startServerProcess({ dataDir });
});

after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A URL with ids, numbers and guest paths replaced: the walk visits a few of each shape, not every guest file. */
function shapeOf(url: string): string {
  const u = new URL(url);
  const path = u.pathname
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '{ID}')
    .replace(/\/mounts\/\d+\/.*/, '/mounts/{N}/{PATH}')
    .replace(/\/guestfs\/.+/, '/guestfs/{PATH}')
    .replace(/\/task-\d+/, '/{TASK}');
  return `${path}?${[...u.searchParams.keys()].sort().join('&')}=${u.searchParams.get('format') ?? ''}${u.searchParams.get('action') ?? ''}`;
}

/** Rels that change something; the walk only reads. */
const WRITES = new Set(['Create', 'Delete', 'Edit', 'Restore', 'Start', 'Stop', 'Retry', 'Clone', 'Download', 'ToggleScheduleEnabled']);

async function keep(c: EmClient, url: string, expect = 200): Promise<any> {
  const r = await c.get(url);
  assert.equal(r.status, expect, `GET ${url}: ${r.text.slice(0, 300)}`);
  docs.push({ url, text: r.text });
  return r;
}

/** Breadth-first over the Links of every EM resource, two URLs of each shape, list collections also as entities. */
async function walk(c: EmClient, starts: string[]): Promise<void> {
  const seen = new Set<string>();
  const perShape = new Map<string, number>();
  const queue = [...starts];
  while (queue.length > 0) {
    const url = queue.shift()!;
    if (seen.has(url)) continue;
    seen.add(url);
    const shape = shapeOf(url);
    const n = perShape.get(shape) ?? 0;
    if (n >= 2) continue;
    perShape.set(shape, n + 1);
    const r = await c.get(url);
    assert.equal(r.status, 200, `GET ${url}: ${r.text.slice(0, 300)}`);
    docs.push({ url, text: r.text });
    for (const l of allLinks(r.body)) {
      if (WRITES.has(l.Rel) || !l.Href.startsWith(server.http)) continue;
      queue.push(l.Href);
      if (l.Type?.endsWith('ReferenceList') && !l.Href.includes('?')) queue.push(`${l.Href}?format=Entity`);
    }
  }
}

/** Every Link anywhere in a parsed XML body. */
function allLinks(node: any): { Rel: string; Type?: string; Href: string }[] {
  const out: { Rel: string; Type?: string; Href: string }[] = [];
  const visit = (n: any) => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(visit);
    out.push(...linksOf(n));
    for (const [k, v] of Object.entries(n)) if (k !== 'Links') visit(v);
  };
  visit(node);
  return out;
}

async function finishedTask(c: EmClient, href: string): Promise<any> {
  return waitFor('task to finish', async () => {
    const t = (await keep(c, href)).body.Task;
    return t.State === 'Finished' ? t : undefined;
  });
}

/** Each kind of request clients make, beyond what links reach from the logon session. */
async function requests(c: EmClient): Promise<void> {
  const base = `${server.http}/api`;
  for (const [name, body] of Object.entries({ RESTORE_SPEC, MOUNT_SPEC, FILE_RESTORE_SPEC })) docs.push({ url: `request body ${name}`, text: `<?xml version="1.0" encoding="utf-8"?>\n${body}` });
  // A backup job run: a BackupJobSession with its BackupTaskSessions.
  const job = (await keep(c, `${base}/jobs`)).body.EntityReferences.Ref[0];
  const start = await c.request('POST', `${job.Href}?action=start`);
  assert.equal(start.status, 202, start.text);
  docs.push({ url: 'POST job start', text: start.text });
  await finishedTask(c, start.body.Task.Href);
  await waitFor('the job run to end', async () => {
    const sessions = (await c.get(`${base}/backupSessions?format=Entity`)).body.BackupJobSessions?.BackupJobSession ?? [];
    return sessions.length > 0 && sessions.every((s: any) => s.State === 'Stopped') ? true : undefined;
  }, 120_000);
  // A restore to a new VM: task, restore session.
  const points = (await keep(c, `${base}/vmRestorePoints?format=Entity`)).body.VmRestorePoints.VmRestorePoint;
  const alpha = points.find((p: any) => p.VmName === 'alpha');
  // The job run's session may read Stopped a moment before it lets go of its VMs: a 409 is retried.
  const restore = await waitFor('the restore to be accepted', async () => {
    const r = await c.request('POST', findLink(alpha, 'Restore')!.Href, {
      body: RESTORE_SPEC,
    });
    return r.status === 409 ? undefined : r;
  });
  assert.equal(restore.status, 202, restore.text);
  docs.push({ url: 'POST restore', text: restore.text });
  const rt = await finishedTask(c, restore.body.Task.Href);
  const sessionHref = findLink(rt, 'Related', 'RestoreSession')!.Href;
  await waitFor('restore session to stop', async () => ((await keep(c, sessionHref)).body.RestoreSession.State === 'Stopped' ? true : undefined), 120_000);
  // A mount: task, mount, listings, a file "stat".
  const mount = await c.request('POST', findLink(alpha, 'Create', 'VmRestorePointMount')!.Href, {
    body: MOUNT_SPEC,
  });
  assert.equal(mount.status, 202, mount.text);
  docs.push({ url: 'POST mount', text: mount.text });
  const mt = await finishedTask(c, mount.body.Task.Href);
  const mountHref = findLink(mt, 'Related', 'VmRestorePointMount')!.Href;
  await walk(c, [mountHref, `${mountHref}/etc?action=listDirs`, `${mountHref}/etc/hostname`, `${mountHref}/srv?action=listAll&pageSize=1&page=1`]);
  const download = await c.request('POST', `${mountHref}/etc/hostname?action=restore`, { body: FILE_RESTORE_SPEC });
  assert.equal(download.status, 202, download.text);
  docs.push({ url: 'POST file restore for download', text: download.text });
  await finishedTask(c, download.body.Task.Href);
  // Catalog, tasks, sessions, and the query service for every type it answers, in each form.
  await walk(c, [`${base}/catalog/vms`, `${base}/tasks`, `${base}/restoreSessions?format=Entity`, `${base}/backupSessions?format=Entity`, `${base}/backupTaskSessions?format=Entity`]);
  for (const type of ['VmRestorePoint', 'RestorePoint', 'BackupServer', 'Job', 'Backup', 'HierarchyRoot', 'RestoreSession', 'BackupJobSession', 'BackupTaskSession', 'Repository', 'ManagedServer', 'BackupFile', 'CatalogVm']) {
    for (const format of ['Entities', 'References']) await keep(c, `${base}/query?type=${type}&format=${format}&pageSize=2`);
  }
  await keep(c, `${base}/query?type=Task&format=Entities`);
  // Errors: EM's Error body.
  await keep(c, `${base}/jobs/00000000-0000-4000-8000-000000000000`, 404);
  await keep(c, `${base}/jobs/99999`, 400);
  assert.equal((await c.request('DELETE', mountHref)).status, 204);
}

/** Runs xmllint once over every document (argv array, files by name); returns its complaints by document. */
function validate(files: string[]): Map<string, string[]> {
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, ...files], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  assert.ok(r.status === 0 || r.status === 3, `xmllint ran: ${r.error?.message ?? r.stderr.slice(0, 500)}`);
  const byFile = new Map<string, string[]>();
  for (const line of r.stderr.split('\n')) {
    const m = /^(\/[^:]+\.xml):\d+: (.*)$/.exec(line);
    if (!m) continue;
    byFile.set(m[1], [...(byFile.get(m[1]) ?? []), m[2]]);
  }
  for (const f of files) assert.ok(r.stderr.includes(`${f} validates`) || byFile.has(f), `xmllint said nothing about ${f}: ${r.stderr.slice(0, 500)}`);
  return byFile;
}

test('every XML resource openem serves validates against EM\'s schema, but for the deviations the 13.0.1 pages require', async () => {
  const c = new EmClient(server.http, 'xml');
  const logon = await c.logOn();
  assert.equal(logon.status, 201);
  docs.push({ url: 'POST sessionMngr', text: logon.text });
  await walk(c, [`${server.http}/api/`, logon.body.LogonSession.Href, `${server.http}/api/logonSessions`]);
  await requests(c);

  const dir = join(work, 'docs');
  mkdirSync(dir);
  const used = new Map<string, number>();
  const files: { file: string; url: string }[] = [];
  let own = 0;
  for (const d of docs) {
    if (d.text.includes('xmlns="urn:openem:api:v1"')) {
      own++; // openem's own resources (README), not EM's to validate
      continue;
    }
    assert.match(d.text, /xmlns="http:\/\/www\.veeam\.com\/ent\/v1\.0"/, `${d.url} is in EM's namespace`);
    const undone = undoDeviations(d.text, used);
    if (undone === undefined) continue;
    const file = join(dir, `${files.length}.xml`);
    writeFileSync(file, undone);
    files.push({ file, url: d.url });
  }
  assert.ok(files.length >= 80, `the walk reached ${files.length} EM documents`);
  assert.ok(own >= 3, `openem's own resources were reached too (${own})`);
  const complaints = validate(files.map((f) => f.file));
  // One line per kind of complaint (values stripped), with the first document that has it.
  const kinds = new Map<string, string>();
  for (const f of files) {
    for (const msg of complaints.get(f.file) ?? []) {
      const key = msg.replace(/The value '[^']*'/, "The value '…'");
      if (!kinds.has(key)) kinds.set(key, `${f.url}\n    ${msg}`);
    }
  }
  assert.deepEqual([...kinds.values()], [], 'schema errors beyond the listed deviations');
  assert.deepEqual(DEVIATIONS.filter((d) => !used.has(d.page)).map((d) => d.page), [], 'every listed deviation still occurs');
});
