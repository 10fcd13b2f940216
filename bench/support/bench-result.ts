/**
 * One figure of a benchmark, as `npm run bench` collects it: each bench prints its own report as it likes and,
 * for every goal, one `BENCH-RESULT {json}` line that scripts/run-bench.mjs gathers into the summary table.
 */
export interface BenchResult {
  /** What was measured, e.g. "full restore vs restic (throughput)". */
  figure: string;
  value: number;
  /** "x" for ratios, or the unit of an absolute figure ("ms", "%"). */
  unit: string;
  /** The goal, e.g. ">= 1.5". */
  goal: string;
  met: boolean;
  /** The baseline the ratio is against, in words. */
  baseline?: string;
}

export const RESULT_PREFIX = 'BENCH-RESULT ';

type Comparison = '>=' | '<=' | '<' | '>';

function meets(value: number, op: Comparison, target: number): boolean {
  if (!Number.isFinite(value)) return false;
  return op === '>=' ? value >= target : op === '<=' ? value <= target : op === '<' ? value < target : value > target;
}

/** Prints one figure against its goal, for people (a line) and for the summary (a BENCH-RESULT line). */
export function reportResult(figure: string, value: number, op: Comparison, target: number, options: { unit?: string; baseline?: string } = {}): BenchResult {
  const unit = options.unit ?? 'x';
  const result: BenchResult = { figure, value, unit, goal: `${op} ${target}`, met: meets(value, op, target), baseline: options.baseline };
  console.log(`${RESULT_PREFIX}${JSON.stringify(result)}`);
  return result;
}
