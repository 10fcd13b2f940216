import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A test context (`t`): anything that runs a function when it ends, also when it fails. */
export interface Owner {
  after(fn: () => unknown): unknown;
}

/**
 * What a test or a file started, undone in reverse order when it ends — also when it fails. node:test runs
 * `after` hooks first in, first out, but a folder must outlive the server that writes into it; here the
 * last thing started is the first one stopped.
 */
export class Cleanup {
  private readonly undo: (() => unknown)[] = [];

  constructor(owner: Owner) {
    owner.after(() => this.run());
  }

  /** Runs `fn` when the owner ends, before anything deferred earlier. */
  defer(fn: () => unknown): void {
    this.undo.push(fn);
  }

  private async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.undo.splice(0).reverse()) {
      try {
        await fn();
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'clean-up failed');
  }
}

const ofTest = new WeakMap<Owner, Cleanup>();

/** The clean-up of one test: `cleanupOf(t)`. */
export function cleanupOf(t: Owner): Cleanup {
  let c = ofTest.get(t);
  if (!c) ofTest.set(t, (c = new Cleanup(t)));
  return c;
}

/**
 * The clean-up of a whole file (or of a `describe` block, called in its body), run after its last test. Call
 * it at that level, not inside a hook: node:test's `after` called inside a `before` hook would run as soon as
 * that hook ends.
 */
export function fileCleanup(): Cleanup {
  return new Cleanup({ after });
}

/** A fresh folder in the OS temp folder, removed with everything inside it when `cleanup` runs. */
export function tempDir(cleanup: Cleanup, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
