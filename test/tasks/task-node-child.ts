// One openem node's task engine in a process of its own, for task-claims.test.ts to kill without cleanup.
// argv: dataDir, databaseUrl ('' for SQLite), leaseMs, heartbeatMs. It runs queued `hang` and `hang-resumable`
// tasks, whose work never ends, prints `claimed task-N` for each and `ready` once started, then waits.
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createBaseContext } from '../../src/app-context.js';
import { TaskEngine } from '../../src/tasks/task-engine.js';

const [dataDir, databaseUrl, leaseMs, heartbeatMs] = process.argv.slice(2);
const config = loadConfig({ env: {}, flags: { dataDir, databaseUrl: databaseUrl || undefined, adminPassword: 'Admin-pass-1' } });
const ctx = await createBaseContext(config, createLogger('silent'), { announce: () => {} });
const engine = new TaskEngine(ctx, { leaseMs: Number(leaseMs), heartbeatMs: Number(heartbeatMs), pollMs: 50 });
const hang = (run: { taskId: string }) => {
  process.stdout.write(`claimed ${run.taskId}\n`);
  return new Promise<never>(() => {});
};
engine.handle('hang', { run: hang });
engine.handle('hang-resumable', { run: hang, afterNodeLoss: 'resume' });
await engine.start();
process.stdout.write('ready\n');
setInterval(() => {}, 1 << 30);
