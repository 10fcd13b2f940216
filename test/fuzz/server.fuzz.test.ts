// Generated URLs, headers and bodies at the running server (every API area): no 500 for bad input, no crash,
// and the server keeps serving (issue #6 §4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBaseContext } from '../../src/app-context.js';
import { attachServices } from '../../src/attach-services.js';
import { API_AREAS } from '../../src/api/areas.js';
import { startServer } from '../../src/server.js';
import { freePort } from '../helpers/free-port.js';
import { ADMIN_PASSWORD } from '../helpers/server-process.js';
import { fuzzOptions } from './fuzz-budget.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

const SEGMENTS = ['api', '', 'logonSessions', 'sessionMngr', 'vmRestorePoints', 'restorePoints', 'backups', 'jobs', 'tasks', 'task-1', 'restoreSessions', 'mounts', '1', 'catalog', 'vms', 'guestfs', 'query', 'backupServers', 'hierarchyRoots', 'openapi.json', '..', '%2e%2e', '%2F', '%00', '%ZZ', 'C:', 'E:%2FDoc%20x', 'x'.repeat(300), '{id}', '00000000-0000-0000-0000-000000000000'];
const QUERIES = ['', '?format=Entity', '?action=restore', '?action=download', '?action=listAll&pageSize=-1&page=0', '?type=VmRestorePoint&filter=Name==%22a', '?type=Task&sortDesc=x&pageSize=99999999999', '?v=latest', '?action=start', '?format=Entities&filter=(((', '?%'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
const CONTENT_TYPES = [undefined, 'application/xml', 'application/json', 'text/xml', 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', '*/*', 'application/xml;;;'];
const ACCEPTS = [undefined, 'application/json', 'application/xml', '*/*', 'text/html', 'application/json;q=0, application/xml', '\u00ff'];
const BODIES = [
  '',
  '<RestoreSpec><VmRestoreSpec><PowerOnAfterRestore>maybe</PowerOnAfterRestore></VmRestoreSpec></RestoreSpec>',
  '{"VmRestoreSpec":{"PowerOnAfterRestore":"x","QuickRollback":[]}}',
  '<!DOCTYPE a [<!ENTITY b SYSTEM "file:///etc/passwd">]><a>&b;</a>',
  '{"ForDirectDownload":{},"ToOriginalLocation":{}}',
  '<FileRestoreSpec><ToOriginalLocation Overwrite="x"><GuestCredentials/></ToOriginalLocation></FileRestoreSpec>',
  '{"OsKind":"Plan9"}',
  'null',
  '[]',
  '<',
];

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * A status, or `not-sent` when node itself refused to build the request (invalid characters: nothing reached the
 * server). A connection the server drops without answering is an error of the server, never skipped.
 */
function send(base: URL, r: Req): Promise<number | 'not-sent'> {
  return new Promise((resolve, reject) => {
    let req;
    try {
      // Node frames an OPTIONS or DELETE body neither by length nor chunked; the length keeps every request one request.
      const length = r.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(r.body)) };
      req = request({ host: base.hostname, port: base.port, method: r.method, path: r.path, headers: { ...r.headers, ...length }, agent: false });
    } catch {
      return resolve('not-sent');
    }
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', (e) => reject(new Error(`${r.method} ${r.path}: no answer from the server (${(e as Error).message})`)));
    try {
      req.end(r.body);
    } catch {
      req.destroy();
      resolve('not-sent');
    }
  });
}

test('generated requests never get a 5xx other than 501, and the server keeps serving', async (t) => {
  const dataDir = tempDir(cleanupOf(t), 'openem-fuzz-');
  const config = loadConfig({ env: {}, flags: { dataDir, listen: '127.0.0.1', httpsPort: 0, httpPort: await freePort(), adminPassword: ADMIN_PASSWORD, logonFailureLimit: 0 } });
  const base = await createBaseContext(config, createLogger('silent'), {});
  const ctx = await attachServices(base, { demo: false });
  const server = await startServer(ctx, config, API_AREAS, 'fuzz');
  const url = new URL(server.urls.http!);
  try {
    const logon = await fetch(`${server.urls.http}/api/sessionMngr/?v=latest`, { method: 'POST', headers: { Authorization: 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64') } });
    const token = logon.headers.get('x-restsvcsessionid')!;
    const reqArb = fc.record({
      method: fc.constantFrom(...METHODS),
      segments: fc.array(fc.oneof(fc.constantFrom(...SEGMENTS), fc.webSegment(), fc.string({ maxLength: 12 }).map(encodeURIComponent)), { minLength: 1, maxLength: 7 }),
      query: fc.oneof(fc.constantFrom(...QUERIES), fc.webQueryParameters().map((q) => (q ? `?${q}` : ''))),
      session: fc.constantFrom('header', 'cookie', 'none', 'garbage'),
      contentType: fc.constantFrom(...CONTENT_TYPES),
      accept: fc.constantFrom(...ACCEPTS),
      authorization: fc.option(fc.oneof(fc.constant(`Basic ${Buffer.from('admin:x').toString('base64')}`), fc.string({ maxLength: 20 }).map((s) => `Basic ${s}`), fc.string({ maxLength: 20 }))),
      body: fc.oneof(fc.constantFrom(...BODIES), fc.string({ maxLength: 200 }), fc.json({ maxDepth: 3 })),
    });
    await fc.assert(
      fc.asyncProperty(reqArb, async (g) => {
        const headers: Record<string, string> = {};
        if (g.session === 'header') headers['X-RestSvcSessionId'] = token;
        if (g.session === 'cookie') headers.Cookie = `X-RestSvcSessionId=${encodeURIComponent(token)}`;
        if (g.session === 'garbage') headers['X-RestSvcSessionId'] = 'x'.repeat(600);
        if (g.contentType) headers['Content-Type'] = g.contentType;
        if (g.accept) headers.Accept = g.accept;
        if (g.authorization) headers.Authorization = g.authorization;
        const hasBody = g.method !== 'GET' && g.method !== 'HEAD' && g.body !== '';
        const r: Req = { method: g.method, path: '/' + g.segments.join('/') + g.query, headers, body: hasBody ? g.body : undefined };
        const status = await send(url, r);
        if (status === 'not-sent') return;
        assert.ok(status < 500 || status === 501, `${r.method} ${r.path} ${JSON.stringify(r.headers)} ${r.body ?? ''} -> ${status}`);
      }),
      fuzzOptions(),
    );
    assert.equal((await fetch(`${server.urls.http}/api/`)).status, 200, 'still serving');
  } finally {
    await server.close();
    await ctx.shutdown();
    await base.store.close();
  }
});
