import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findTool, requireTool } from '../../src/platform/local/external-tool.js';

test('a missing tool fails as UNAVAILABLE naming the Debian package to install', async () => {
  await assert.rejects(requireTool('openem-no-such-tool', 'e2fsprogs'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'UNAVAILABLE');
    assert.match(e.message, /'openem-no-such-tool' was not found/);
    assert.match(e.message, /apt-get install e2fsprogs/);
    return true;
  });
});

// The suite requires e2fsprogs (scripts/preflight.mjs), so a missing mke2fs fails here rather than skipping.
test('tools in sbin folders are found even when PATH lacks them', async () => {
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    assert.match((await findTool('mke2fs')) ?? '', /\/sbin\/mke2fs$/);
  } finally {
    process.env.PATH = saved;
  }
});
