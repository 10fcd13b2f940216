// Every external tool the code or the tests run by name is one scripts/preflight.mjs looks for, so a machine that
// lacks its Debian package is stopped before the tests with the apt-get line, not deep inside one of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Always there on Debian (Essential packages: dash, bash, coreutils, findutils, libc-bin) or not a host tool at all. */
const ESSENTIAL = new Set(['sh', '/bin/sh', 'bash', 'sleep', 'rm', 'true', 'xargs', 'getent', 'ldd', 'npx', 'node', 'openem-no-such-tool']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : /\.(ts|mjs)$/.test(n) ? [p] : [];
  });
}

test('each tool run by name in src/ and test/ is checked by scripts/preflight.mjs', () => {
  const call = /\b(?:runHelper|requireTool|findTool|tool|run|runTool|ntfsTool|spawnSync|execFileSync|execFile|spawn)\(\s*(?:await tool\()?'([a-zA-Z0-9_./-]+)'/g;
  const used = new Map<string, string>();
  for (const f of [...sources('src'), ...sources('test')]) {
    for (const m of readFileSync(f, 'utf8').matchAll(call)) if (!ESSENTIAL.has(m[1]) && !used.has(m[1])) used.set(m[1], f);
  }
  assert.ok(used.has('blkid') && used.has('mke2fs'), 'the scan finds the tools');
  const preflight = readFileSync('scripts/preflight.mjs', 'utf8');
  const checked = new Set([...preflight.matchAll(/what: (['"])(.*?)\1/g)].flatMap((m) => m[2].split(/[\s,()]+/)));
  const unchecked = [...used].filter(([tool]) => !checked.has(tool)).map(([tool, file]) => `${tool} (${file})`);
  assert.deepEqual(unchecked, [], 'tools the preflight does not look for');
});

test("the Debian packages README's apt line installs are .ci/run's and the ones scripts/preflight.mjs checks", () => {
  const words = (s: string | undefined) => new Set((s ?? '').trim().split(/\s+/).filter(Boolean));
  const readme = words(/^apt-get install -y (.+)$/m.exec(readFileSync('README.md', 'utf8'))?.[1]);
  const ci = words(/^packages=\(([^)]*)\)/m.exec(readFileSync('.ci/run', 'utf8'))?.[1]);
  const preflight = new Set([...readFileSync('scripts/preflight.mjs', 'utf8').matchAll(/pkg: '([^']+)'/g)].map((m) => m[1]));
  assert.ok(readme.has('e2fsprogs') && ci.has('e2fsprogs'), 'the lists are found');
  assert.deepEqual([...ci].sort(), [...readme].sort(), '.ci/run and README');
  assert.deepEqual([...preflight].sort(), [...readme].sort(), 'scripts/preflight.mjs and README');
});
