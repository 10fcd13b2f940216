// A monitoring collector walks every collection on every run, also those for features openem does not have
// (replication, agents, file shares, Cloud Connect); each answers with EM's empty list, never 404
// (issue #10 "Collections openem has nothing for", em-clients.md "Monitoring").
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { EmClient } from '../helpers/em-client.js';

let server: ServerProcess | undefined;
let json: EmClient;
let xml: EmClient;

before(async () => {
  server = await startServerProcess();
  json = new EmClient(server.http, 'json');
  xml = new EmClient(server.http, 'xml');
  assert.equal((await json.logOn()).status, 201);
  assert.equal((await xml.logOn()).status, 201);
});
after(async () => {
  assert.equal(await server?.stop(), 0);
});

/** What the collectors call (em-clients.md "Monitoring") and more of EM's collections, with EM's type and entity list. */
const COLLECTIONS: [string, string, string][] = [
  ['/replicaSessions', 'ReplicaJobSession', 'ReplicaJobSessions'],
  ['/replicaTaskSessions', 'ReplicaTaskSession', 'ReplicaTaskSessions'],
  ['/agents/discoveredComputers', 'DiscoveredComputer', 'DiscoveredComputers'],
  ['/nas/jobs', 'NasJob', 'NasJobs'],
  ['/nas/backupSessions', 'BackupJobSession', 'BackupJobSessions'],
  ['/cloud/tenants', 'CloudTenant', 'CloudTenants'],
  ['/replicas', 'Replica', 'Replicas'],
  ['/vmReplicaPoints', 'VmReplicaPoint', 'VmReplicaPoints'],
  ['/failoverPlans', 'FailoverPlan', 'FailoverPlans'],
  ['/wanAccelerators', 'WanAccelerator', 'WanAccelerators'],
  ['/agents/jobs', 'AgentBackupJob', 'AgentBackupJobs'],
  ['/agents/backupSessions', 'BackupJobSession', 'BackupJobSessions'],
  ['/cloud/gateways', 'CloudGateway', 'CloudGateways'],
  ['/cdpPolicies', 'CdpPolicy', 'CdpPolicies'],
];

test('every collection answers 200 with an empty list, as references and as entities, in JSON', async () => {
  for (const [path, , plural] of COLLECTIONS) {
    const refs = await json.get(`${server!.http}/api${path}`);
    assert.equal(refs.status, 200, `${path}: ${refs.text}`);
    assert.deepEqual(refs.body, { Refs: [] }, path);
    const entities = await json.get(`${server!.http}/api${path}?format=Entity`);
    assert.equal(entities.status, 200, path);
    assert.deepEqual(entities.body, { [plural]: [] }, `${path}?format=Entity`);
  }
});

test('in XML the same lists are an empty <EntityReferences> and an empty entity list element', async () => {
  for (const [path, , plural] of COLLECTIONS) {
    const refs = await xml.get(`${server!.http}/api${path}`);
    assert.equal(refs.status, 200, path);
    assert.match(refs.text, /^<\?xml version="1\.0" encoding="utf-8"\?>\n<EntityReferences xmlns="http:\/\/www\.veeam\.com\/ent\/v1\.0" \/>\n$/, path);
    const entities = await xml.get(`${server!.http}/api${path}?format=Entity`);
    assert.match(entities.text, new RegExp(`^<\\?xml version="1\\.0" encoding="utf-8"\\?>\\n<${plural} xmlns="http://www\\.veeam\\.com/ent/v1\\.0" />\\n$`), path);
  }
});

test('one item of an empty collection is a 404 EM error; an ID that is not a GUID names its type in the 400', async () => {
  for (const [path, type] of COLLECTIONS) {
    const missing = await json.get(`${server!.http}/api${path}/00000000-0000-0000-0000-000000000000`);
    assert.equal(missing.status, 404, path);
    assert.equal(missing.body.StatusCode, 404);
    assert.equal(missing.body.Status, null);
    const bad = await json.get(`${server!.http}/api${path}/99999`);
    assert.equal(bad.status, 400, path);
    assert.equal(bad.body.Message, ` ID 99999 is invalid. Type: ${type}`, path);
  }
});

test('their query types answer an empty QueryResult, with the filters collectors send', async () => {
  const e = await json.get(`${server!.http}/api/query?type=ReplicaJobSession&format=Entities&filter=${encodeURIComponent('Result==Failed;CreationTime>="2025-08-15T06:00:00Z"')}`);
  assert.equal(e.status, 200, e.text);
  assert.deepEqual(e.body.Entities, { ReplicaJobSessions: { ReplicaJobSessions: [] } });
  assert.equal(e.body.PagingInfo.PagesCount, 1);
  for (const type of ['CloudTenant', 'CloudSubtenant', 'Replica', 'VmReplicaPoint', 'DiscoveredComputer', 'NasJob', 'NasObject', 'ObjectInAgentBackupJob', 'VsphereSelfServiceConfig', 'cdpPolicy']) {
    const r = await json.get(`${server!.http}/api/query?type=${type}`);
    assert.equal(r.status, 200, `${type}: ${r.text}`);
    assert.deepEqual(r.body.Refs, { Refs: [] }, type);
  }
  // A type openem does have, while it is still empty, takes the same filter instead of calling its fields unknown.
  const sessions = await json.get(`${server!.http}/api/query?type=RestoreSession&format=Entities&filter=Result==Failed`);
  assert.equal(sessions.status, 200, sessions.text);
  assert.deepEqual(sessions.body.Entities, { RestoreSessions: { RestoreSessions: [] } });
});
