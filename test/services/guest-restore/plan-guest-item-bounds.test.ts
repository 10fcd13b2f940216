// A restore plans the whole tree below the chosen entry before writing: a folder that holds one of its own
// ancestors (a damaged or hostile ext4 can) and a tree too big to hold in memory are refused with a code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isOpenemError } from '../../../src/errors.js';
import { MAX_PLANNED_ITEMS, planGuestItem } from '../../../src/services/guest-restore/plan-guest-item.js';
import { debugfs, makeImage, tempDir } from '../../guestfs/fixtures/ext4-images.js';
import { withImageReader } from '../../guestfs/fixtures/guest-snapshot.js';

const code = (c: string) => (e: unknown) => isOpenemError(e) && e.code === c;

test('a folder that contains its own ancestor is refused as CORRUPT, not followed for ever', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'tree', 'a', 'b'), { recursive: true });
  writeFileSync(join(dir, 'tree', 'a', 'b', 'f'), 'x');
  const image = join(dir, 'looped.img');
  makeImage(image, join(dir, 'tree'), { size: '8M', mkfsArgs: ['-b', '4096'] });
  // debugfs `link` adds a directory entry for an existing inode: /a/b/up now names /a itself.
  debugfs(image, 'link /a /a/b/up', 0, true);
  await withImageReader(image, 0, async (fs) => {
    assert.equal((await fs.stat('/a/b/up'))?.id, (await fs.stat('/a'))?.id, 'the image holds the loop');
    await assert.rejects(planGuestItem(fs, (await fs.stat('/a'))!), code('CORRUPT'));
    await assert.rejects(planGuestItem(fs, (await fs.stat('/a/b'))!), code('CORRUPT'), 'from /a/b the loop comes back to /a/b');
  });
});

test('a tree of more items than the plan allows is refused with a clear BAD_REQUEST', async (t) => {
  assert.equal(MAX_PLANNED_ITEMS, 1_000_000);
  const dir = tempDir(t);
  mkdirSync(join(dir, 'tree', 'many'), { recursive: true });
  for (let i = 0; i < 30; i++) writeFileSync(join(dir, 'tree', 'many', `f${i}`), String(i));
  const image = join(dir, 'many.img');
  makeImage(image, join(dir, 'tree'), { size: '8M', mkfsArgs: ['-b', '4096'] });
  await withImageReader(image, 0, async (fs) => {
    const many = (await fs.stat('/many'))!;
    assert.equal((await planGuestItem(fs, many, undefined, 31)).count, 31, 'a tree within the limit is planned');
    await assert.rejects(planGuestItem(fs, many, undefined, 30), (e: unknown) => code('BAD_REQUEST')(e) && /more than 30 items/.test((e as Error).message));
  });
});
