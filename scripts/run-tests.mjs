#!/usr/bin/env node
// Node 20's test runner takes no glob patterns, so we list the files ourselves (ecosystem-and-style.md §0).
// Usage: node scripts/run-tests.mjs [substring...]   — only files whose path contains one of the substrings.
import { readdirSync, statSync, mkdtempSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = findTests('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Tests make disk images, repositories and data directories in os.tmpdir(); they all go into one folder that
// is removed after the run (OPENEM_KEEP_TEST_TMP=1 keeps it), so repeated runs do not fill the disk. It is
// world-traversable like /tmp because the PostgreSQL tests run initdb as the `postgres` user.
const testTmp = mkdtempSync(join(tmpdir(), 'openem-tests-'));
chmodSync(testTmp, 0o1777);
let r;
try {
  r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
    { stdio: 'inherit', env: { ...process.env, TMPDIR: testTmp } },
  );
} finally {
  if (!process.env.OPENEM_KEEP_TEST_TMP) rmSync(testTmp, { recursive: true, force: true });
}
process.exit(r?.status ?? 1);
