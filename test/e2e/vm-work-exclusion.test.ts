// Issue 9 §4: one piece of work per VM at a time, whatever its kind — backup (API job, CLI `openem backup`), entire
// VM restore, QuickRollback, guest file restore (catalog or mount) — across processes; mounts are not excluded.
// Every pair gets 409 with EM's Error naming what holds the VM, or runs one after the other. On SQLite and PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { startServerProcess, ADMIN_PASSWORD, type ServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink, waitFor, type EmResponse } from '../helpers/em-client.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { createBackedUpVm, damageDisk } from '../helpers/vm-fixture.js';
import { startTestPostgres, type TestPostgres } from '../state/postgres-fixture.js';
import { mount, pointIdOf } from '../services/mounts/flr-fixture.js';
import { rootOf, waitForSession, waitForTask } from './vm-restore-fixtures.js';
import { fileCleanup, tempDir } from '../helpers/cleanup.js';

type Kind = 'vm-restore' | 'quick-rollback' | 'catalog-file-restore' | 'mount-file-restore' | 'job-backup' | 'cli-backup';

const QUICK_ROLLBACK = '<RestoreSpec xmlns="http://www.veeam.com/ent/v1.0"><VmRestoreSpec><PowerOnAfterRestore>false</PowerOnAfterRestore><QuickRollback>true</QuickRollback></VmRestoreSpec></RestoreSpec>';
const SESSION = 'restore session [0-9a-f-]{36}';

/** `openem backup` running in the background, with its output so far. */
function startCli(dataDir: string, args: string[], env: Record<string, string>): { exited: Promise<CliResult>; stderr: () => string; kill: () => void; pid: number } {
  const p = spawn(process.execPath, [resolve('dist/src/main.js'), ...args], {
    env: { ...process.env, OPENEM_DATA_DIR: dataDir, OPENEM_ADMIN_PASSWORD: ADMIN_PASSWORD, OPENEM_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<CliResult>((r) => p.on('exit', (code) => r({ code, stdout, stderr })));
  return { exited, stderr: () => stderr, kill: () => p.kill('SIGKILL'), pid: p.pid! };
}

/**
 * Runs `fn` while process `pid` is paused (SIGSTOP), so that the work it holds a VM for cannot end meanwhile
 * however slow the other side is to start; a paused process still holds its claims (same host, live pid).
 */
async function whilePaused<T>(pid: number, fn: () => Promise<T>): Promise<T> {
  process.kill(pid, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

function exclusionOn(databaseUrl: () => Promise<string | undefined>) {
  let server: ServerProcess | undefined;
  let dataDir: string;
  let env: Record<string, string>;
  let image: string;
  let c: EmClient;
  let pointId: string;
  let jobId: string;
  let mountHref: string;
  const base = () => server!.http;
  const cleanup = fileCleanup();

  before(async () => {
    dataDir = tempDir(cleanup, 'openem-exclusion-');
    const url = await databaseUrl();
    env = url ? { OPENEM_DATABASE_URL: url } : {};
    // Big enough that each piece of work runs for a while (random payload: nothing compresses away), with room for a
    // restored copy of the payload beside the original: a guest file restore writes beside, then renames over.
    ({ image } = await createBackedUpVm(dataDir, 'busy', { sizeMiB: 1024, payloadMiB: 400, env }));
    server = await startServerProcess({ dataDir, env });
    cleanup.defer(() => server?.stop());
    c = new EmClient(server.http, 'xml');
    await c.logOn();
    pointId = await pointIdOf(c, 'busy');
    const jobs = (await c.get(`${base()}/api/jobs`)).text;
    jobId = /Name="Backup busy" UID="urn:veeam:Job:([^"]+)"/.exec(jobs)?.[1] ?? assert.fail(`no job in ${jobs}`);
    mountHref = await mount(cleanup, c, pointId);
  });

  /** Starts one piece of work of `kind` on the VM; answers the HTTP response (or, for the CLI, its result). */
  async function attempt(kind: Kind): Promise<EmResponse | CliResult> {
    // The first point, whose guest filesystem is intact whatever the tests did to the live disk since.
    const id = pointId;
    switch (kind) {
      case 'vm-restore':
        return c.request('POST', `${base()}/api/vmRestorePoints/${id}?action=restore`);
      case 'quick-rollback':
        return c.request('POST', `${base()}/api/vmRestorePoints/${id}?action=restore`, { body: QUICK_ROLLBACK });
      case 'catalog-file-restore':
        return c.request('POST', `${base()}/api/catalog/vms/busy/vmRestorePoints/${id}/guestfs/payload.bin?action=restore`);
      case 'mount-file-restore':
        return c.request('POST', `${mountHref}/etc/hostname?action=restore`);
      case 'job-backup':
        return c.request('POST', `${base()}/api/jobs/${jobId}?action=start`);
      case 'cli-backup':
        return runCli(dataDir, ['backup', 'busy'], { env });
    }
  }

  /** Every kind in `kinds` is refused while the holder runs: 409 and EM's Error naming the holder (CLI: exit 1, the same words). */
  async function allRefused(kinds: Kind[], holder: RegExp): Promise<void> {
    const outcomes = await Promise.all(kinds.map(async (k) => [k, await attempt(k)] as const));
    for (const [kind, r] of outcomes) {
      if ('code' in r) {
        assert.equal(r.code, 1, `${kind}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, new RegExp(`openem: VM busy is busy: ${holder.source}.*a backup of it can start once that has finished`), kind);
        continue;
      }
      assert.equal(r.status, 409, `${kind}: ${r.text}`);
      const e = rootOf(r.body, 'xml', 'Error');
      assert.equal(e.StatusCode, '409', kind);
      assert.equal(e.Status, 'Conflict', kind);
      assert.match(e.Message, new RegExp(`^VM busy is busy: ${holder.source}`), kind);
    }
  }

  test('while an entire VM restore runs: every other kind gets 409 naming its session, a mount works, `openem backup --wait` runs after it', async () => {
    const posted = await attempt('vm-restore');
    assert.equal((posted as EmResponse).status, 202, (posted as EmResponse).text);
    const waiting = startCli(dataDir, ['backup', 'busy', '--wait', '300'], env);
    try {
      const task = await waitForTask(c, rootOf((posted as EmResponse).body, 'xml', 'Task').Href);
      const holder = new RegExp(`an entire VM restore holds it \\(${SESSION}, on \\S+ pid \\d+ since `);
      await allRefused(['vm-restore', 'quick-rollback', 'catalog-file-restore', 'mount-file-restore', 'job-backup'], holder);
      await whilePaused(server!.proc.pid!, () => allRefused(['cli-backup'], holder));
      const extra = await c.request('POST', `${base()}/api/vmRestorePoints/${pointId}/mounts`);
      assert.equal(extra.status, 202, 'mounts are read-only and not excluded');
      const result = await waiting.exited;
      assert.equal(result.code, 0, result.stderr);
      const s = rootOf((await c.get(findLink(task, 'Related', 'RestoreSession')!.Href)).body, 'xml', 'RestoreSession');
      assert.equal(s.State, 'Stopped', 'the waiting backup ran after the restore, not beside it');
      assert.equal(s.Result, 'Success', JSON.stringify(s));
    } finally {
      waiting.kill();
    }
  });

  test('while a QuickRollback runs: every other kind gets 409 naming its session; afterwards the VM is free', async () => {
    for (let mib = 8; mib < 500; mib += 6) damageDisk(image, mib); // blocks to put back, so the rollback writes
    const posted = (await attempt('quick-rollback')) as EmResponse;
    assert.equal(posted.status, 202, posted.text);
    await allRefused(['quick-rollback', 'vm-restore', 'catalog-file-restore', 'mount-file-restore', 'job-backup'], new RegExp(`a QuickRollback restore holds it \\((${SESSION}|a restore starting now), on `));
    const s = await waitForSession(c, await waitForTask(c, rootOf(posted.body, 'xml', 'Task').Href));
    assert.equal(s.Result, 'Success', JSON.stringify(s));
  });

  test('while a guest file restore runs: every other kind gets 409 naming its session, the CLI backup too', async () => {
    const posted = (await attempt('catalog-file-restore')) as EmResponse;
    assert.equal(posted.status, 202, posted.text);
    const holder = new RegExp(`a guest file restore holds it \\((${SESSION}|a guest file restore starting now), on `);
    await allRefused(['catalog-file-restore', 'mount-file-restore', 'vm-restore', 'quick-rollback', 'job-backup'], holder);
    await whilePaused(server!.proc.pid!, () => allRefused(['cli-backup'], holder));
    const s = await waitForSession(c, await waitForTask(c, rootOf(posted.body, 'xml', 'Task').Href));
    assert.equal(s.Result, 'Success', JSON.stringify(s));
  });

  test('while a backup job runs: every other kind gets 409 naming the job; once it ends a restore runs', async () => {
    for (let mib = 8; mib < 500; mib += 3) damageDisk(image, mib); // new blocks to store, so the backup takes a while
    const posted = (await attempt('job-backup')) as EmResponse;
    assert.equal(posted.status, 202, posted.text);
    await allRefused(['job-backup', 'vm-restore', 'quick-rollback', 'catalog-file-restore', 'mount-file-restore'], /a backup holds it \(backup job "Backup busy", on /);
    const after = await waitFor('the backup to give the VM back', async () => {
      const r = (await attempt('vm-restore')) as EmResponse;
      if (r.status === 202) return r;
      assert.equal(r.status, 409, r.text);
      return undefined;
    }, 120_000, 200);
    const s = await waitForSession(c, await waitForTask(c, rootOf(after.body, 'xml', 'Task').Href));
    assert.equal(s.Result, 'Success', JSON.stringify(s));
  });

  test('while `openem backup` runs in another process: the server refuses every kind with 409 naming it', async () => {
    for (let mib = 8; mib < 500; mib += 3) damageDisk(image, mib);
    const cli = startCli(dataDir, ['backup', 'busy'], env);
    try {
      await waitFor('the CLI backup to be reading the disks', async () => (/backup busy: \d+%/.test(cli.stderr()) ? true : undefined), 60_000, 20);
      await whilePaused(cli.pid, () => allRefused(['vm-restore', 'quick-rollback', 'catalog-file-restore', 'mount-file-restore', 'job-backup'], /a backup holds it \(openem backup, on \S+ pid \d+ since /));
      const done = await cli.exited;
      assert.equal(done.code, 0, done.stderr);
      const r = (await attempt('vm-restore')) as EmResponse;
      assert.equal(r.status, 202, r.text);
      assert.equal((await waitForSession(c, await waitForTask(c, rootOf(r.body, 'xml', 'Task').Href))).Result, 'Success');
    } finally {
      cli.kill();
    }
  });
}

describe('one piece of work per VM, SQLite state', () => exclusionOn(async () => undefined));

describe('one piece of work per VM, PostgreSQL state', () => {
  let pg: TestPostgres | undefined;
  exclusionOn(async () => {
    pg = await startTestPostgres();
    return pg.newDatabaseUrl();
  });
  // After the server's own `after`: the database goes last.
  after(async () => pg?.stop());
});
