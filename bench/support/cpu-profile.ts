import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/**
 * A CPU profile of this thread, sampled every 100 µs, around what a bench wants looked at (OPENEM_BENCH_CPU_PROFILE):
 * `start` when `file` is set (nothing otherwise), then `stop` writes a .cpuprofile that Chrome's DevTools opens.
 */
export async function startCpuProfile(file: string | undefined): Promise<{ stop: () => Promise<void> }> {
  if (!file) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return {
    stop: async () => {
      await writeFile(file, JSON.stringify((await session.post('Profiler.stop')).profile));
      session.disconnect();
    },
  };
}
