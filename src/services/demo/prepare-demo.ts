import type { AppContext } from '../app-services.js';

/** Placeholder until the backup service lands. */
export async function prepareDemo(_ctx: AppContext): Promise<void> {}
