// The task engine's claim (ARCHITECTURE.md "Task engine"): a queued task is claimed by exactly one node that runs its
// kind, the node renews its lease while the work runs, and a task whose node was killed without cleanup is failed —
// or, for a kind that resumes, run again — by another node once the lease has expired. Several engines on one store
// stand for several nodes; the killed one is a process of its own (task-node-child.ts). SQLite file and PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBaseContext } from '../../src/app-context.js';
import type { BaseContext } from '../../src/context.js';
import { TaskEngine, type TaskEngineOptions } from '../../src/tasks/task-engine.js';
import type { TaskRecord } from '../../src/tasks/task-types.js';
import { startTestPostgres, type TestPostgres } from '../state/postgres-fixture.js';

const CHILD = fileURLToPath(new URL('./task-node-child.ts', import.meta.url));
const LEASE_MS = 600;
const HEARTBEAT_MS = 100;
const FAST: TaskEngineOptions = { leaseMs: LEASE_MS, heartbeatMs: HEARTBEAT_MS, pollMs: 50 };

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A node in a process of its own; `lines` collects what it prints. */
function startChildNode(where: { dataDir: string; databaseUrl?: string }): { child: ChildProcess; lines: string[] } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, where.dataDir, where.databaseUrl ?? '', String(LEASE_MS), String(HEARTBEAT_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (b) => {
    buf += b;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  return { child, lines };
}

function behaviours(where: () => Promise<{ dataDir: string; databaseUrl?: string }>) {
  let settings: { dataDir: string; databaseUrl?: string };
  let ctx: BaseContext;
  const engines: TaskEngine[] = [];
  const children: ChildProcess[] = [];
  /** Another node on the same store. */
  const nodeIds = new Map<TaskEngine, string>();
  const nodeOn = (options: TaskEngineOptions = FAST) => {
    const nodeId = randomUUID();
    const engine = new TaskEngine({ ...ctx, nodeId }, options);
    engines.push(engine);
    nodeIds.set(engine, nodeId);
    return engine;
  };
  const nodeOf = async (task: TaskRecord) => (await ctx.store.db.selectFrom('tasks').select('node_id').where('seq', '=', task.seq).executeTakeFirstOrThrow()).node_id;
  const finished = (engine: TaskEngine, task: TaskRecord) => until(`${task.taskId} to finish`, async () => {
    const r = await engine.get(task.taskId);
    return r?.state === 'Finished' ? r : undefined;
  });

  before(async () => {
    settings = await where();
    const config = loadConfig({ env: {}, flags: { ...settings, adminPassword: 'Admin-pass-1' } });
    ctx = await createBaseContext(config, createLogger('silent'), { announce: () => {} });
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const e of engines) await e.stop();
    await ctx.store.close();
    rmSync(settings.dataDir, { recursive: true, force: true });
  });

  test('a task queued on a node without its handler is claimed and run by a node that has one, and is Running to clients until then', async () => {
    const accepting = nodeOn();
    await accepting.start();
    const task = await accepting.enqueue({ operation: 'Test', kind: 'echo', accountId: 'a', payload: { word: 'hello' } });
    assert.equal(task.state, 'Running');
    assert.equal((await accepting.get(task.taskId))?.state, 'Running');
    const worker = nodeOn();
    const workerId = nodeIds.get(worker);
    worker.handle('echo', { run: async (_run, payload) => ({ message: `${(payload as { word: string }).word} from ${workerId}` }) });
    await worker.start();
    const done = await finished(accepting, task);
    assert.equal(done.success, true);
    assert.equal(done.message, `hello from ${workerId}`);
    assert.equal(await nodeOf(task), workerId, 'the row names the node that ran it');
  });

  test('nodes racing for queued tasks run each exactly once', async () => {
    const runs = new Map<string, number>();
    const nodes = [nodeOn(), nodeOn(), nodeOn()];
    for (const n of nodes) {
      n.handle('count', {
        run: async (run) => {
          runs.set(run.taskId, (runs.get(run.taskId) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 5));
          return { message: 'counted' };
        },
      });
    }
    await Promise.all(nodes.map((n) => n.start()));
    const tasks = await Promise.all(Array.from({ length: 24 }, (_, i) => nodes[i % 3].enqueue({ operation: 'Test', kind: 'count', accountId: 'a' })));
    for (const t of tasks) assert.equal((await finished(nodes[0], t)).message, 'counted');
    assert.deepEqual([...runs.values()].filter((n) => n !== 1), [], 'a task ran twice');
    assert.equal(runs.size, tasks.length);
  });

  test('a node renews the lease of the work it runs: its task stays Running well past the lease', async () => {
    const node = nodeOn();
    let release: (() => void) | undefined;
    node.handle('slow', { run: () => new Promise((r) => (release = () => r({ message: 'slow done' }))) });
    await node.start();
    const watcher = nodeOn();
    await watcher.start(); // sweeps for expired leases too
    const task = await node.enqueue({ operation: 'Test', kind: 'slow', accountId: 'a' });
    await until('the slow task to start', async () => (release ? true : undefined));
    await new Promise((r) => setTimeout(r, 4 * LEASE_MS));
    assert.equal((await watcher.get(task.taskId))?.state, 'Running');
    release?.();
    assert.equal((await finished(watcher, task)).message, 'slow done');
  });

  test('a task whose node was killed mid-run is failed by another node once its lease expired', async () => {
    const survivor = nodeOn();
    await survivor.start();
    const { child, lines } = startChildNode(settings);
    children.push(child);
    await until('the child node to start', async () => (lines.includes('ready') ? true : undefined));
    const task = await survivor.enqueue({ operation: 'Test', kind: 'hang', accountId: 'a' });
    await until('the child to claim the task', async () => (lines.includes(`claimed ${task.taskId}`) ? true : undefined));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const done = await finished(survivor, task);
    assert.equal(done.success, false);
    assert.equal(done.message, 'Interrupted: the openem server stopped while this task was running');
  });

  test('a resumable task whose node was killed is run again by another node; one cut off by a clean stop is queued again', async () => {
    const survivor = nodeOn();
    survivor.handle('hang-resumable', { run: async () => ({ message: 'resumed elsewhere' }), afterNodeLoss: 'resume' });
    const { child, lines } = startChildNode(settings);
    children.push(child);
    await until('the child node to start', async () => (lines.includes('ready') ? true : undefined));
    const task = await nodeOn().enqueue({ operation: 'Test', kind: 'hang-resumable', accountId: 'a' });
    await until('the child to claim the task', async () => (lines.includes(`claimed ${task.taskId}`) ? true : undefined));
    await survivor.start(); // only now: the child must be the one that claimed it
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const done = await finished(survivor, task);
    assert.equal(done.success, true);
    assert.equal(done.message, 'resumed elsewhere');

    const stopping = nodeOn();
    let started = false;
    stopping.handle('cut-off', { run: (run) => new Promise((_, reject) => ((started = true), run.signal.addEventListener('abort', () => reject(run.signal.reason)))), afterNodeLoss: 'resume' });
    await stopping.start();
    const cut = await stopping.enqueue({ operation: 'Test', kind: 'cut-off', accountId: 'a' });
    await until('the cut-off task to start', async () => (started ? true : undefined));
    await stopping.stop();
    assert.equal((await ctx.store.db.selectFrom('tasks').select('state').where('seq', '=', cut.seq).executeTakeFirstOrThrow()).state, 'Queued');
    const next = nodeOn();
    next.handle('cut-off', { run: async () => ({ message: 'run again after the stop' }), afterNodeLoss: 'resume' });
    await next.start();
    assert.equal((await finished(next, cut)).message, 'run again after the stop');
  });
}

describe('task claims on a SQLite file', () => behaviours(async () => ({ dataDir: mkdtempSync(join(tmpdir(), 'openem-task-claims-')) })));

describe('task claims on PostgreSQL', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startTestPostgres();
  });
  after(async () => pg?.stop());
  behaviours(async () => ({ dataDir: mkdtempSync(join(tmpdir(), 'openem-task-claims-')), databaseUrl: await pg.newDatabaseUrl() }));
});
