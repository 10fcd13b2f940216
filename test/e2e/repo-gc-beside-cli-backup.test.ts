// The repository's gc exclusion holds between processes through the state store (tasks/repository-leases.ts), not
// through files in the repository: `openem repo forget` (which collects garbage) is refused while another openem
// process is backing up, naming that process, and runs at once after that process was SIGKILLed (its pid is dead here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliOk, runCli } from '../helpers/cli.js';
import { ADMIN_PASSWORD } from '../helpers/server-process.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

const CHILD = fileURLToPath(new URL('./hold-backup-lease-child.ts', import.meta.url));

test('gc in one openem process is refused while another backs up, and runs once that backup process was killed', async (t) => {
  const d = tempDir(cleanupOf(t), 'openem-gc-');
  await cliOk(d, ['repo', 'check']); // creates the data directory, state and repository
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, d, 'vm-in-backup'], {
    env: { ...process.env, OPENEM_ADMIN_PASSWORD: ADMIN_PASSWORD },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  cleanupOf(t).defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  const deadline = Date.now() + 60_000;
  while (!out.includes('holding')) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `the backing-up process did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 10));
  }

  const refused = await runCli(d, ['repo', 'forget', '--keep', '1']);
  assert.equal(refused.code, 1, refused.stdout);
  assert.match(refused.stderr, new RegExp(`cannot collect garbage while backups run \\(VM vm-in-backup: held by pid ${child.pid} on `));

  child.kill('SIGKILL');
  await exited;
  assert.match(await cliOk(d, ['repo', 'forget', '--keep', '1']), /forgot 0 restore points; gc deleted 0 packs/);
  assert.equal(existsSync(join(d, 'repository', 'locks')), false, 'no lock files in the repository');
});
