import { link } from 'node:fs/promises';
import type { DirHandle } from './dir-handle.js';

/** Where an entry of the item being written is: its name components from the write's top folder, the item's own (temporary) name first. */
export type ItemRoute = Buffer[];

/**
 * The hard links of one write (GuestItem `hardLink`): the first name of each key to start is written as a file, and
 * every other name waits for it to be complete, then is made with link(2) to it. Both names are inside the item
 * being built under its temporary name, so the links are renamed into place with it (atomic per item) and removed
 * with it when the write fails or was killed (interrupted-writes.ts). The first name is reached again by opening
 * its folders one at a time from the top, O_NOFOLLOW (DirHandle), never through a path the kernel walks.
 */
export class HardLinks {
  private readonly firsts = new Map<string, Promise<ItemRoute>>();

  constructor(private readonly top: DirHandle) {}

  /**
   * For the first name of `key`: `undefined`, and `written` must be called once it is complete (or with the error
   * that stopped it). For a later name: the route of the first, once that is written.
   */
  claim(key: string, route: ItemRoute): { first: true; written(error?: unknown): void } | { first: false; route: Promise<ItemRoute> } {
    const known = this.firsts.get(key);
    if (known) return { first: false, route: known };
    let settle!: (error?: unknown) => void;
    const done = new Promise<ItemRoute>((resolve, reject) => {
      settle = (error) => (error === undefined ? resolve(route) : reject(error));
    });
    // A later name that never comes does not leave this rejection unhandled.
    done.catch(() => undefined);
    this.firsts.set(key, done);
    return { first: true, written: settle };
  }

  /** Makes `name` in `dir` a hard link of the entry at `route`. */
  async link(route: ItemRoute, dir: DirHandle, name: Buffer): Promise<void> {
    const opened: DirHandle[] = [];
    try {
      let at = this.top;
      for (const part of route.slice(0, -1)) {
        at = await at.openChild(part);
        opened.push(at);
      }
      await link(at.child(route[route.length - 1]), dir.child(name));
    } finally {
      for (const h of opened.reverse()) await h.close();
    }
  }
}
