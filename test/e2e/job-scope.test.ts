// A job whose VMs are partly in a restricted account's restore scope: the account sees the job, but only its own
// VMs in the job's Includes, its includes collection and its Description (issue #6 §1: collections are filtered).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient } from '../helpers/em-client.js';
import { cliOk } from '../helpers/cli.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

const cleanup = fileCleanup();
let server: ServerProcess;
let dataDir: string;

async function createVm(name: string): Promise<void> {
  const src = tempDir(cleanup, `openem-js-${name}-`);
  mkdirSync(join(src, 'etc'));
  writeFileSync(join(src, 'etc', 'hostname'), `${name}\n`);
  await cliOk(dataDir, ['vm', 'create', name, '--from-dir', src, '--size', '32M']);
}

before(async () => {
  dataDir = tempDir(cleanup, 'openem-job-scope-');
  await createVm('seen');
  await createVm('hidden');
  await cliOk(dataDir, ['job', 'create', 'Pair', '--vm', 'seen,hidden']);
  await cliOk(dataDir, ['backup', 'seen', 'hidden', '--job', 'Pair']);
  await cliOk(dataDir, ['user', 'add', 'olivia', '--password-stdin', '--role', 'restore-operator', '--scope', 'vm:seen'], { input: 'Olivia-pass-1\n' });
  server = await startServerProcess({ dataDir });
  cleanup.defer(async () => {
    await server?.stop();
  });
});

test('a Restore Operator scoped to one VM of a job sees that VM only in the job, its includes and its description; an admin sees both', async () => {
  const admin = new EmClient(server.http);
  assert.equal((await admin.logOn()).status, 201);
  const jobs = (await admin.get(`${server.http}/api/jobs`)).text;
  const jobId = /Name="Pair" UID="urn:veeam:Job:([^"]+)"/.exec(jobs)?.[1] ?? assert.fail(jobs);
  const includes = (await admin.get(`${server.http}/api/jobs/${jobId}/includes`)).text;
  const hiddenId = /<ObjectInJobId>([^<]+)<\/ObjectInJobId>\s*<HierarchyObjRef>[^<]*<\/HierarchyObjRef>\s*<Name>hidden</.exec(includes)?.[1] ?? assert.fail(includes);
  for (const url of [`/api/jobs/${jobId}?format=Entity`, `/api/jobs/${jobId}/includes`]) {
    const r = await admin.get(`${server.http}${url}`);
    assert.match(r.text, /<Name>seen<\/Name>/, url);
    assert.match(r.text, /<Name>hidden<\/Name>/, url);
  }
  assert.match((await admin.get(`${server.http}/api/jobs/${jobId}?format=Entity`)).text, /Backs up seen, hidden/);

  const olivia = new EmClient(server.http);
  assert.equal((await olivia.logOn('olivia', 'Olivia-pass-1')).status, 201);
  const urls = [`/api/jobs/${jobId}?format=Entity`, `/api/jobs/${jobId}/includes`, `/api/jobs?format=Entity`, `/api/query?type=Job&format=Entities`];
  for (const format of ['xml', 'json'] as const) {
    const c = new EmClient(server.http, format);
    assert.equal((await c.logOn('olivia', 'Olivia-pass-1')).status, 201);
    for (const url of urls) {
      const r = await c.get(`${server.http}${url}`);
      assert.equal(r.status, 200, `${url}: ${r.text}`);
      assert.match(r.text, /seen/, `${url} (${format}) shows the VM in scope`);
      assert.doesNotMatch(r.text, /hidden/, `${url} (${format}) names no VM outside the scope`);
      assert.ok(!r.text.includes(hiddenId), `${url} (${format}) gives no id of a VM outside the scope`);
    }
  }
  const one = await olivia.get(`${server.http}/api/jobs/${jobId}/includes/${hiddenId}`);
  assert.equal(one.status, 404, 'a VM of the job outside the scope is not one of its includes for the caller');
  assert.doesNotMatch(one.text, /hidden/);
});
