/**
 * API overhead: requests/s and p99 latency of `GET /api/logonSessions/{ID}` with a session header (session
 * hook, store lookup, XML rendering) against a bare Fastify route answering a fixed XML body, both served by
 * one child process, measured one after the other by autocannon in this process. Prints the ratio
 * (goal: at least 0.5 of the bare route, issue #2 "How it is checked").
 * Usage: node --import tsx bench/api.ts [seconds=10] [connections=10]   (BENCH_CPU_PROF=<dir> profiles the server)     (never part of npm test)
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';
import { reportResult } from './support/bench-result.js';

const PASSWORD = 'bench-admin-password';

interface Targets {
  api: string;
  sessionPath: string;
  token: string;
  bare: string;
}

/** Child: the real API (SQLite store in a temp dir) and a bare Fastify, each on its own loopback port. */
async function serve(): Promise<void> {
  const [{ loadConfig }, { createLogger }, { createBaseContext }, { attachServices }, { startServer }, { default: Fastify }] = await Promise.all([
    import('../src/config.js'),
    import('../src/logger.js'),
    import('../src/app-context.js'),
    import('../src/attach-services.js'),
    import('../src/server.js'),
    import('fastify'),
  ]);
  const dataDir = mkdtempSync(join(tmpdir(), 'openem-bench-api-'));
  const config = loadConfig({ env: {}, flags: { dataDir, listen: '127.0.0.1', httpsPort: 0, httpPort: 0, adminPassword: PASSWORD, logLevel: 'warn' } });
  // httpPort 0 turns the listener off, so pick a port by listening on an ephemeral one first.
  const probe = Fastify();
  await probe.listen({ host: '127.0.0.1', port: 0 });
  const apiPort = (probe.server.address() as { port: number }).port;
  await probe.close();
  config.httpPort = apiPort;
  const base = await createBaseContext(config, createLogger('warn'), { announce: () => {} });
  const ctx = await attachServices(base, { demo: false, startTasks: false });
  const server = await startServer(ctx, config, [], 'bench');
  const api = server.urls.http!;
  const logon = await fetch(`${api}/api/sessionMngr/?v=latest`, { method: 'POST', headers: { Authorization: 'Basic ' + Buffer.from(`admin:${PASSWORD}`).toString('base64') } });
  const token = logon.headers.get('x-restsvcsessionid')!;
  const sessionPath = new URL(logon.headers.get('location')!).pathname;

  const bare = Fastify({ logger: false });
  const body = await (await fetch(`${api}${sessionPath}`, { headers: { 'X-RestSvcSessionId': token } })).text();
  bare.get('/bare/:id', async (_req, reply) => reply.type('application/xml; charset=utf-8').send(body));
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const targets: Targets = { api, sessionPath, token, bare: `http://127.0.0.1:${(bare.server.address() as { port: number }).port}` };
  process.send!(targets);
  process.once('disconnect', async () => {
    await bare.close();
    await server.close();
    await ctx.shutdown();
    await base.store.close();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
}

interface Figures {
  rps: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function run(url: string, headers: Record<string, string>, seconds: number, connections: number): Promise<Figures> {
  const r = await autocannon({ url, headers, duration: seconds, connections });
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx };
}

/**
 * Both targets in alternating rounds (bare, api, bare, api, …) so load from other processes on the machine
 * falls on both alike; figures are the mean req/s and the worst p99 over the rounds.
 */
async function measureBoth(targets: { url: string; headers: Record<string, string> }[], seconds: number, connections: number, rounds: number): Promise<Figures[]> {
  for (const t of targets) await run(t.url, t.headers, 2, connections); // warm-up (JIT, caches)
  const all: Figures[][] = targets.map(() => []);
  for (let i = 0; i < rounds; i++) {
    for (const [k, t] of targets.entries()) all[k].push(await run(t.url, t.headers, seconds / rounds, connections));
  }
  return all.map((fs) => ({
    rps: fs.reduce((a, f) => a + f.rps, 0) / fs.length,
    p99: Math.max(...fs.map((f) => f.p99)),
    errors: fs.reduce((a, f) => a + f.errors, 0),
    non2xx: fs.reduce((a, f) => a + f.non2xx, 0),
  }));
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 10);
  const connections = Number(process.argv[3] ?? 10);
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])], stdio: 'inherit' });
  const t = await new Promise<Targets>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Targets));
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  try {
    const [bare, api] = await measureBoth(
      [
        { url: `${t.bare}/bare/x`, headers: {} },
        { url: `${t.api}${t.sessionPath}`, headers: { 'X-RestSvcSessionId': t.token, Accept: 'application/xml' } },
      ],
      seconds,
      connections,
      5,
    );
    if (api.non2xx || api.errors || bare.non2xx || bare.errors) throw new Error(`failed requests: api ${JSON.stringify(api)} bare ${JSON.stringify(bare)}`);
    const row = (name: string, f: Figures) => `${name.padEnd(34)} ${f.rps.toFixed(0).padStart(8)} req/s   p99 ${String(f.p99).padStart(4)} ms`;
    console.log(`${seconds}s per target in 5 alternating rounds, ${connections} connections, node ${process.version}, ${availableParallelism()} CPUs, load ${loadavg()[0].toFixed(1)}`);
    console.log(row('bare Fastify route (baseline)', bare));
    console.log(row('GET /api/logonSessions/{ID}', api));
    const ratio = api.rps / bare.rps;
    reportResult('GET /logonSessions/{ID} req/s vs bare route', ratio, '>=', 0.5, { baseline: 'bare Fastify route' });
  } finally {
    child.disconnect();
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
