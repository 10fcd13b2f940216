import { hostname } from 'node:os';
import { isProcessAlive } from '../host/process-alive.js';
import { conflict } from '../errors.js';
import type { BlobStore } from './blob-store.js';

interface LockBody {
  pid: number;
  host: string;
  purpose: string;
  since: string;
}

export interface HeldLock {
  release(): Promise<void>;
}

/**
 * Exclusive named locks: an in-process set (two backups of one VM in the same server) plus a lock
 * object `locks/<name>.lock` created only-if-absent and holding the pid, so a CLI and the server exclude
 * each other too. A lock file left by a dead process on this host is taken over.
 */
export class LockTable {
  private readonly held = new Set<string>();

  constructor(private readonly store: BlobStore) {}

  static keyOf(name: string): string {
    return `locks/${encodeURIComponent(name).replace(/\*/g, '%2A')}.lock`;
  }

  async acquire(name: string, purpose: string): Promise<HeldLock> {
    if (this.held.has(name)) throw conflict(`${purpose} is already running in this process (lock ${name})`);
    this.held.add(name);
    try {
      await this.acquireFile(name, purpose);
    } catch (e) {
      this.held.delete(name);
      throw e;
    }
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await this.store.delete(LockTable.keyOf(name));
        this.held.delete(name);
      },
    };
  }

  private async acquireFile(name: string, purpose: string): Promise<void> {
    const key = LockTable.keyOf(name);
    const body: LockBody = { pid: process.pid, host: hostname(), purpose, since: new Date().toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await this.store.putIfAbsent(key, Buffer.from(JSON.stringify(body)))) return;
      const holder = await this.readHolder(key);
      if (holder && isAlive(holder)) {
        throw conflict(`${purpose} is already running (lock ${name} held by pid ${holder.pid} on ${holder.host} since ${holder.since})`);
      }
      // Stale (dead pid on this host) or unreadable (crash while creating it): take it over.
      await this.store.delete(key);
    }
    throw conflict(`could not take lock ${name}`);
  }

  private async readHolder(key: string): Promise<LockBody | undefined> {
    try {
      return JSON.parse((await this.store.get(key)).toString('utf8')) as LockBody;
    } catch {
      return undefined;
    }
  }

  /** Names of locks held by live processes (used by gc, which must not run beside a backup). */
  async liveLocks(prefix: string): Promise<string[]> {
    const out: string[] = [];
    for (const key of await this.store.list('locks/')) {
      const name = decodeURIComponent(key.slice('locks/'.length, -'.lock'.length));
      if (!name.startsWith(prefix)) continue;
      const holder = await this.readHolder(key);
      if (holder && isAlive(holder)) out.push(name);
    }
    return out;
  }
}

function isAlive(holder: LockBody): boolean {
  if (holder.host !== hostname()) return true; // cannot tell for another host: assume alive
  if (holder.pid === process.pid) return true;
  return isProcessAlive(holder.pid);
}
