import { OpenemError } from '../../errors.js';

/** Runs a step that must happen after a write whether it failed or not; a second failure is reported with the first. */
export async function afterFailure(failure: unknown, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (e) {
    if (failure === undefined) throw e;
    throw new OpenemError('INTERNAL', `${(failure as Error)?.message ?? failure}; then: ${(e as Error)?.message ?? e}`, { cause: failure });
  }
}
