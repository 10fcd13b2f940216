// `serve --demo` takes "local" (or nothing) and "kvm": any other word is refused before anything is made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { cleanupOf, tempDir } from '../helpers/cleanup.js';

test('serve --demo with an unknown demo exits non-zero naming the demos there are, and makes no state', async (t) => {
  const dataDir = join(tempDir(cleanupOf(t), 'openem-demo-choice-'), 'data');
  const r = await runCli(dataDir, ['serve', '--demo', 'nope', '--https-port', '0', '--http-port', '0']);
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, /--demo nope: the demos are "--demo" \(local VMs\) and "--demo kvm" \(KVM guests\)/);
  assert.equal(existsSync(join(dataDir, 'state.db')), false, 'no state store was made');
});
