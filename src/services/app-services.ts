import type { BaseContext } from '../context.js';
import type { AreaPlugin } from '../api/build-api.js';

/** The application context with its services; each later part (platform, repository, tasks) is added here. */
export type AppContext = BaseContext & {
  shutdown(): Promise<void>;
  [key: string]: unknown;
};

export async function attachServices(base: BaseContext, _options: { demo: boolean }): Promise<AppContext> {
  return { ...base, shutdown: async () => {} };
}

/** The API areas beyond entry point and logon, in registration order. */
export function apiAreas(): AreaPlugin[] {
  return [];
}
