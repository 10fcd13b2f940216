import type { AppContext } from '../app-services.js';

/** Placeholder until the backup service lands. */
export async function syncRestorePoints(_ctx: AppContext): Promise<void> {}
