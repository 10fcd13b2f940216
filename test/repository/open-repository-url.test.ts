// The repository is opened from a location (open-repository.ts, open-blob-store.ts): a file:// URL or a plain path
// reach the same local repository; a scheme openem has no store for is refused by code, before anything is touched.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { initRepository, openRepository } from '../../src/repository/open-repository.js';
import { backUpImage, tempDir, writeImage } from './repository-fixtures.js';

test('a file:// URL, an absolute path and a relative path open the same local repository', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  const repoPath = join(dir.path, 'repo with space');
  const url = pathToFileURL(repoPath).href;
  assert.match(url, /^file:\/\/\/.*repo%20with%20space$/);
  const created = await openRepository(url, { create: true });
  t.after(() => created.close());
  assert.equal(created.location, repoPath);
  assert.ok(existsSync(join(repoPath, 'config.json')), 'the URL names the folder on disk');
  const image = join(dir.path, 'a.img');
  await writeImage(image, ['random', 'zero', 'text']);
  const point = await backUpImage(created, 'vm-1', image);

  for (const location of [repoPath, relative(process.cwd(), repoPath), `FILE://${pathToFileURL(repoPath).pathname}`]) {
    const again = await openRepository(location);
    try {
      assert.equal(again.location, repoPath, location);
      assert.deepEqual((await again.listManifests()).map((m) => m.id), [point.manifest.id], location);
    } finally {
      await again.close();
    }
  }
  await assert.rejects(initRepository(url), { code: 'CONFLICT' });
});

test('a scheme without a store is NOT_IMPLEMENTED, a file URL with a host is BAD_REQUEST, and neither creates anything', async (t) => {
  const dir = await tempDir();
  t.after(dir.cleanup);
  for (const location of ['ftp://host/repo', 'FTP://host', 'gs://bucket/prefix']) { // s3:// has a store (s3-blob-store.test.ts)
    await assert.rejects(openRepository(location, { create: true }), { code: 'NOT_IMPLEMENTED' }, location);
    await assert.rejects(initRepository(location), { code: 'NOT_IMPLEMENTED' }, location);
  }
  await assert.rejects(openRepository('file://fileserver/share/repo', { create: true }), { code: 'BAD_REQUEST' });
  await assert.rejects(openRepository(pathToFileURL(join(dir.path, 'missing')).href), { code: 'NOT_FOUND' });
  assert.equal(existsSync(join(dir.path, 'missing')), false);
});
