// Issue #2 §2: SIGTERM stops accepting, lets in-flight requests finish, closes the store and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { startServerProcess, ADMIN_PASSWORD } from '../helpers/server-process.js';
import { waitFor } from '../helpers/em-client.js';

function canConnect(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = connect(Number(port), hostname);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('SIGTERM with a request in flight: the request completes, new connections are refused, exit code 0', async () => {
  const server = await startServerProcess();
  const body = JSON.stringify({});
  const { hostname, port } = new URL(server.http);
  // A logon whose body is still to come when SIGTERM arrives. `Expect: 100-continue` makes the server say when it
  // has taken the request (node answers 100 Continue once the headers are parsed and the request dispatched).
  const req = request({
    host: hostname,
    port,
    method: 'POST',
    path: '/api/sessionMngr/?v=latest',
    agent: false,
    headers: {
      Authorization: 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64'),
      'Content-Type': 'application/json',
      'Content-Length': String(body.length),
      Accept: 'application/json',
      Expect: '100-continue',
    },
  });
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.once('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.once('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.once('error', reject);
  });
  req.flushHeaders();
  await new Promise<void>((r) => req.once('continue', () => r()));

  const exited = new Promise<number | null>((r) => server.proc.once('exit', (code) => r(code)));
  server.proc.kill('SIGTERM');
  await waitFor('new connections to be refused', async () => ((await canConnect(server.http)) ? undefined : true), 10_000, 20);
  assert.equal(server.proc.exitCode, null, 'still running while a request is in flight');

  req.end(body);
  const r = await response;
  assert.equal(r.status, 201, r.text);
  assert.equal(JSON.parse(r.text).UserName, 'admin');
  assert.equal(await exited, 0, server.output());
  assert.equal(await canConnect(server.https), false);
});
