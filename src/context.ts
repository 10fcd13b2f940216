import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Store } from './state/open-store.js';

/** Time comes from here so tests can move it (session expiry, mount idle time). */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * The one place that holds the application's parts (STYLE.md "explicit dependencies"); built in
 * `app-context.ts`, handed down to the API and services.
 */
export interface BaseContext {
  config: Config;
  store: Store;
  log: Logger;
  clock: Clock;
  /** This openem node (one per process), used as the backup server id and task owner. */
  nodeId: string;
}
