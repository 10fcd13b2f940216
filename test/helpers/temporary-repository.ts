import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { openRepository } from '../../src/repository/open-repository.js';
import type { Repository } from '../../src/repository/repository.js';

/** A test file's repository: made in a fresh temporary folder before its tests, closed and removed after them. */
export interface TemporaryRepository {
  /** The temporary folder; the repository is its `repo` folder, and tests write their images beside it. */
  readonly dir: string;
  readonly repo: Repository;
}

/**
 * Registers the `before` and `after` hooks of a test file that all its tests share one new local repository (packs
 * of `packSize`, 8 blocks unless told: small enough that a test's few dozen blocks fill several). Call it at the top
 * level of the file; `dir` and `repo` are there once the tests run.
 */
export function temporaryRepositoryPerFile(options: { packSize?: number; prefix?: string } = {}): TemporaryRepository {
  let dir: string | undefined;
  let repo: Repository | undefined;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), options.prefix ?? 'openem-repo-'));
    repo = await openRepository(join(dir, 'repo'), { create: true, packSize: options.packSize ?? 8 * BLOCK_SIZE });
  });
  after(async () => {
    await repo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the temporary repository is made in the test file\'s before hook: use it in a test');
    return value;
  };
  return {
    get dir() {
      return ready(dir);
    },
    get repo() {
      return ready(repo);
    },
  };
}
