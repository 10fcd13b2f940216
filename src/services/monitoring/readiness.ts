import { sql } from 'kysely';
import type { AppContext } from '../app-services.js';

/** How long each dependency may take to answer before the node counts as not ready. */
export const READY_PROBE_TIMEOUT_MS = 2_000;

export interface DependencyState {
  status: 'ok' | 'unavailable';
  /** Why it is unavailable. */
  detail?: string;
}

export interface Readiness {
  ready: boolean;
  database: DependencyState;
  objectStore: DependencyState & { location: string };
}

/**
 * Whether this node can serve: the state store answers a query and the repository's blob store answers a read of
 * its config (a HEAD on S3), each within `timeoutMs`, probed at once. A load balancer takes a node that is not
 * ready out of rotation (README, "Several nodes").
 */
export async function checkReadiness(ctx: AppContext, timeoutMs = READY_PROBE_TIMEOUT_MS): Promise<Readiness> {
  const [database, objectStore] = await Promise.all([
    probe(() => withTimeout(sql`select 1`.execute(ctx.store.db), timeoutMs, 'the state store')),
    probe(() => ctx.repository.probe(timeoutMs)),
  ]);
  return { ready: database.status === 'ok' && objectStore.status === 'ok', database, objectStore: { ...objectStore, location: ctx.repository.location } };
}

async function probe(run: () => Promise<unknown>): Promise<DependencyState> {
  try {
    await run();
    return { status: 'ok' };
  } catch (e) {
    return { status: 'unavailable', detail: e instanceof Error ? e.message : String(e) };
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
