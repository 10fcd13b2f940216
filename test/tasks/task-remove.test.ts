// DELETE /tasks/{ID} through the engine (issue 9 §3; delete_task_id "Removes a task"): the row goes; a task whose own
// work still runs has it stopped, on this node at once and on another node through its heartbeat; what a task
// finished early for lives on. The same tests on SQLite and PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBaseContext } from '../../src/app-context.js';
import type { BaseContext } from '../../src/context.js';
import { TaskEngine, TASK_REMOVED } from '../../src/tasks/task-engine.js';
import { startTestPostgres, type TestPostgres } from '../state/postgres-fixture.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

// Each fresh data directory goes when the file ends, after every suite has closed its stores.
const cleanup = fileCleanup();

/** Resolves with the abort reason's message once `signal` aborts, or 'not stopped' after `ms`. */
/** Polls `probe` until it answers, or fails naming `what` after `ms`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function stoppedWithin(signal: AbortSignal, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('not stopped'), ms);
    const done = () => {
      clearTimeout(timer);
      resolve(signal.reason instanceof Error ? signal.reason.message : String(signal.reason));
    };
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}

function behaviours(where: () => Promise<{ dataDir: string; databaseUrl?: string }>) {
  let ctx: BaseContext;
  let engine: TaskEngine;
  before(async () => {
    const config = loadConfig({ env: {}, flags: { ...(await where()), adminPassword: 'Admin-pass-1' } });
    ctx = await createBaseContext(config, createLogger('silent'), { announce: () => {} });
    engine = new TaskEngine(ctx);
    await engine.start();
  });
  after(async () => {
    await engine.stop();
    await ctx.store.close();
  });

  test('removing a task whose own work runs stops that work and the task is gone', async () => {
    let seen: AbortSignal | undefined;
    const task = await engine.submit({ operation: 'Test', kind: 'test', accountId: 'a' }, async (run) => {
      seen = run.signal;
      await new Promise((_, reject) => run.signal.addEventListener('abort', () => reject(run.signal.reason), { once: true }));
      return { message: 'never' };
    });
    await until('the task work to start', async () => seen);
    await engine.remove(task.taskId);
    assert.equal(await stoppedWithin(seen!, 1000), TASK_REMOVED);
    assert.equal(await engine.get(task.taskId), undefined);
    await assert.rejects(engine.remove(task.taskId), (e: any) => e.code === 'NOT_FOUND');
  });

  test('removing a task that finished early leaves what it started running to its end', async () => {
    const lifetimeKey = `restore session ${randomUUID()}`;
    let release!: () => void;
    const proceed = new Promise<void>((r) => (release = r));
    let lived: AbortSignal | undefined;
    let ended = false;
    const task = await engine.submit({ operation: 'Test', kind: 'test', accountId: 'a' }, async (run) => {
      const lifetime = engine.lifetimes.begin(lifetimeKey, { startedBy: run.signal });
      lived = lifetime.signal;
      await run.finishEarly('started');
      lifetime.detach();
      await proceed;
      ended = !lifetime.signal.aborted;
      lifetime.end();
      return { message: 'done' };
    });
    await until('the task to finish early', async () => ((await engine.get(task.taskId))?.state === 'Finished' ? true : undefined));
    await engine.remove(task.taskId);
    assert.equal(await stoppedWithin(lived!, 300), 'not stopped');
    release();
    for (let i = 0; i < 200 && !ended; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(ended, true, 'the work ran to its end, never aborted');
  });

  test('a task removed through another node has its own work stopped by its node at the next heartbeat', async () => {
    const other = new TaskEngine({ ...ctx, nodeId: randomUUID() });
    let seen: AbortSignal | undefined;
    const task = await engine.submit({ operation: 'Test', kind: 'test', accountId: 'a' }, async (run) => {
      seen = run.signal;
      await new Promise((_, reject) => run.signal.addEventListener('abort', () => reject(run.signal.reason), { once: true }));
      return { message: 'never' };
    });
    await until('the task work to start', async () => seen);
    await other.remove(task.taskId);
    assert.equal(await stoppedWithin(seen!, 15_000), TASK_REMOVED);
  });
}

describe('task removal on SQLite', () => behaviours(async () => ({ dataDir: tempDir(cleanup, 'openem-tasks-') })));

describe('task removal on PostgreSQL', () => {
  let pg: TestPostgres | undefined;
  behaviours(async () => {
    pg = await startTestPostgres();
    return { dataDir: tempDir(cleanup, 'openem-tasks-'), databaseUrl: await pg.newDatabaseUrl() };
  });
  after(async () => pg?.stop());
});
