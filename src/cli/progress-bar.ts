import cliProgress from 'cli-progress';

/** A byte progress bar on a terminal; plain lines (at most one per 10 %) when output is not a TTY. */
export function byteProgress(label: string): { update(done: number, total: number): void; stop(): void } {
  if (!process.stderr.isTTY) {
    let lastDecile = -1;
    return {
      update(done, total) {
        const decile = total ? Math.floor((done / total) * 10) : 10;
        if (decile !== lastDecile) {
          lastDecile = decile;
          process.stderr.write(`${label}: ${Math.min(100, decile * 10)}%\n`);
        }
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {doneMiB}/{totalMiB} MiB | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      const payload = { doneMiB: (done / 2 ** 20).toFixed(0), totalMiB: (total / 2 ** 20).toFixed(0) };
      if (!started) {
        bar.start(total, done, payload);
        started = true;
      } else bar.update(done, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
