/** What a restore session's log says about its disks (apply-disk-plan.ts describeCounters), per disk. */
export interface DiskCounters {
  disk: string;
  blocksFetched: number;
  mibFetched: number;
  blocksWritten: number;
  blocksZeroed: number;
  blocksUnchanged: number;
}

const COUNTERS = /^Disk (.+?): fetched (\d+) blocks \(([\d.]+) MiB\) from the repository, wrote (\d+) blocks, zeroed (\d+) blocks, left (\d+) blocks unchanged/;

export function diskCounters(log: { Text: string }[]): DiskCounters[] {
  const out: DiskCounters[] = [];
  for (const r of log) {
    const m = COUNTERS.exec(r.Text);
    if (m) out.push({ disk: m[1], blocksFetched: +m[2], mibFetched: +m[3], blocksWritten: +m[4], blocksZeroed: +m[5], blocksUnchanged: +m[6] });
  }
  return out;
}

/** The bytes a VM restore will write, once its log has said (`… blocks to be written (12.0 MiB)`). */
export function plannedBytes(log: { Text: string }[]): number | undefined {
  for (const r of log) {
    const m = /blocks(?: to be written)? \((?:\d+ blocks, )?([\d.]+) MiB\)/.exec(r.Text);
    if (m && /written|intact/.test(r.Text)) return Number(m[1]) * 2 ** 20;
  }
  return undefined;
}

export interface Sample {
  at: number;
  progress: number;
}

/** Rate (percent per second) and time left from the progress the page saw over the last seconds. */
export function estimate(samples: Sample[]): { percentPerSecond?: number; secondsLeft?: number } {
  if (samples.length < 2) return {};
  const last = samples[samples.length - 1];
  const first = samples.find((s) => last.at - s.at <= 30_000 && s.progress < last.progress) ?? samples[0];
  const dt = (last.at - first.at) / 1000;
  const dp = last.progress - first.progress;
  if (dt <= 0 || dp <= 0) return {};
  const rate = dp / dt;
  return { percentPerSecond: rate, secondsLeft: (100 - last.progress) / rate };
}
