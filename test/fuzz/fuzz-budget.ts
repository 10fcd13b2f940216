/**
 * How long each fuzz property runs: a few seconds in `npm test`, longer with OPENEM_FUZZ_SECONDS=<n>
 * (e.g. OPENEM_FUZZ_SECONDS=600 node scripts/run-tests.mjs test/fuzz).
 */
export const FUZZ_MS = Number(process.env.OPENEM_FUZZ_SECONDS ?? 5) * 1000;

export const fuzzOptions = (ms = FUZZ_MS) => ({ numRuns: 1_000_000, interruptAfterTimeLimit: ms, markInterruptAsFailure: false, endOnFailure: true });
