import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { deathBoundArgv, ORPHANED_AT_START_EXIT, runHelper, spawnHelper } from '../../src/host/helper-process.js';
import { spawnSync } from 'node:child_process';

const HELPER_MODULE = resolve('dist/src/host/helper-process.js');

/** Alive means present in /proc and not a zombie waiting for a reaper. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntil(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A Node parent that starts `sleep 300` (through spawnHelper, or plainly) and prints the sleep's pid. */
async function parentWithSleepingChild(bound: boolean): Promise<{ parent: ReturnType<typeof spawn>; childPid: number }> {
  const script = bound
    ? `import { spawnHelper } from ${JSON.stringify(HELPER_MODULE)}; const h = await spawnHelper('sleep', ['300'], { stdio: 'ignore' }); console.log(h.pid); setInterval(() => {}, 1000);`
    : `import { spawn } from 'node:child_process'; const c = spawn('sleep', ['300'], { stdio: 'ignore' }); c.on('spawn', () => console.log(c.pid)); setInterval(() => {}, 1000);`;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const childPid = await new Promise<number>((resolve, reject) => {
    let out = '';
    parent.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    parent.once('exit', (code) => reject(new Error(`parent exited with ${code}`)));
  });
  return { parent, childPid };
}

test('a helper is the tool itself (same pid) and is killed when the server process is SIGKILLed', async (t) => {
  const { parent, childPid } = await parentWithSleepingChild(true);
  t.after(() => {
    parent.kill('SIGKILL');
    if (isAlive(childPid)) process.kill(childPid, 'SIGKILL');
  });
  // setpriv, then the fixed guard script, exec() the tool in place: the pid becomes `sleep` a moment after the spawn.
  const argv0 = () => readFileSync(`/proc/${childPid}/cmdline`, 'utf8').split('\0')[0];
  await waitUntil('the helper to be the tool itself', () => argv0() === '/usr/bin/sleep');
  assert.ok(isAlive(childPid));
  parent.kill('SIGKILL');
  await waitUntil('the helper to die with its parent', () => !isAlive(childPid));
});

test('control: a plainly spawned child outlives a SIGKILLed parent (what the death signal prevents)', async (t) => {
  const { parent, childPid } = await parentWithSleepingChild(false);
  t.after(() => {
    if (isAlive(childPid)) process.kill(childPid, 'SIGKILL');
  });
  parent.kill('SIGKILL');
  await new Promise((r) => parent.once('exit', r));
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(isAlive(childPid), 'the orphan is still running');
});

test('runHelper returns output, and fails with the exit code and stderr unless the code is accepted', async () => {
  const ok = await runHelper('sh', ['-c', 'printf "%s" "$1"; echo oops >&2', 'sh', 'a b;$(id)']);
  assert.equal(ok.stdout, 'a b;$(id)', 'arguments arrive as bytes, never interpreted');
  assert.equal(ok.code, 0);
  await assert.rejects(runHelper('sh', ['-c', 'echo broken >&2; exit 3']), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'INTERNAL');
    assert.match(e.message, /exited with 3: broken/);
    return true;
  });
  const any = await runHelper('sh', ['-c', 'exit 4'], { acceptExitCodes: 'any' });
  assert.equal(any.code, 4);
});

test('runHelper kills a helper that runs past its timeout, and a missing tool names its package', async () => {
  const started = Date.now();
  await assert.rejects(runHelper('sleep', ['30'], { timeoutMs: 200 }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'UNAVAILABLE');
    return true;
  });
  assert.ok(Date.now() - started < 5000);
  await assert.rejects(runHelper('openem-no-such-tool', [], { debianPackage: 'e2fsprogs' }), { code: 'UNAVAILABLE', message: /apt-get install e2fsprogs/ });
});

test('spawnHelper stop() ends a long-running helper', async () => {
  const h = await spawnHelper('sleep', ['300'], { stdio: 'ignore' });
  assert.ok(isAlive(h.pid));
  const end = await h.stop();
  assert.equal(end.signal, 'SIGTERM');
  assert.ok(!isAlive(h.pid));
});

test('a helper whose parent died before its death signal was armed does not run the tool at all', async () => {
  // As if the server had died between fork and prctl: the guard sees a parent that is not the expected one.
  const notMyParent = process.pid + 1_000_000;
  const argv = await deathBoundArgv('/usr/bin/touch', ['/nonexistent-openem-should-not-run'], notMyParent);
  const r = spawnSync(argv.file, argv.args, { encoding: 'utf8' });
  assert.equal(r.status, ORPHANED_AT_START_EXIT);
  assert.equal(r.stderr, '', 'touch never ran');
  const ok = await deathBoundArgv('/usr/bin/printf', ['%s|', 'a b', '$(id)', '"; exit 1'], process.pid);
  const bound = spawnSync(argv.file, ok.args, { encoding: 'utf8' });
  assert.equal(bound.status, 0, bound.stderr);
  assert.equal(bound.stdout, 'a b|$(id)|"; exit 1|', 'arguments reach the tool unparsed');
});
