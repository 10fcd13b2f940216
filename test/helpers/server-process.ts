import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port.js';

export const ADMIN_PASSWORD = 'Admin-pass-1';
const MAIN = resolve('dist/src/main.js');
/** How long stop() waits for a graceful exit after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 30_000;

export interface ServerProcess {
  http: string;
  https: string;
  /** The data directory; one made here (no `dataDir` given) is removed when the server has exited. */
  dataDir: string;
  proc: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

/** Runs `openem serve` from the built JavaScript, on loopback with free ports, as a user would. */
export async function startServerProcess(options: { dataDir?: string; env?: Record<string, string>; args?: string[]; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'openem-e2e-'));
  // A data directory made here is the server's own: removed once the server has exited (stop or kill).
  const removeOwnDataDir = () => {
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  const proc = spawn(
    process.execPath,
    [MAIN, 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1', '--https-port', String(httpsPort), '--http-port', String(httpPort), ...(options.args ?? [])],
    { env: { ...process.env, OPENEM_ADMIN_PASSWORD: ADMIN_PASSWORD, OPENEM_LOG_LEVEL: 'warn', ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  await new Promise<void>((resolveReady, reject) => {
    // A server that does not come up is killed, so a failed start leaves nothing running.
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      void exited.then(removeOwnDataDir);
      reject(new Error(`server did not start:\n${out}`));
    }, options.timeoutMs ?? 120_000);
    const check = () => {
      if (out.includes('listening:')) {
        clearTimeout(timer);
        resolveReady();
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      removeOwnDataDir();
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return {
    http: `http://127.0.0.1:${httpPort}`,
    https: `https://127.0.0.1:${httpsPort}`,
    dataDir,
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited.finally(removeOwnDataDir);
      proc.kill('SIGTERM');
      // A server that does not finish its graceful stop in time is killed: a test never hangs on it.
      const escalate = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
      try {
        return await exited;
      } finally {
        clearTimeout(escalate);
        removeOwnDataDir();
      }
    },
    kill: async () => {
      proc.kill('SIGKILL');
      await exited;
      removeOwnDataDir();
    },
  };
}
