import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { ADMIN_PASSWORD } from './server-process.js';

const MAIN = resolve('dist/src/main.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `openem` CLI on a data directory, as a user would. */
export function runCli(dataDir: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((resolveRun) => {
    const p = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, OPENEM_DATA_DIR: dataDir, OPENEM_ADMIN_PASSWORD: ADMIN_PASSWORD, OPENEM_LOG_LEVEL: 'warn', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolveRun({ code, stdout, stderr }));
    p.stdin.end(options.input ?? '');
  });
}

export async function cliOk(dataDir: string, args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<string> {
  const r = await runCli(dataDir, args, options);
  if (r.code !== 0) throw new Error(`openem ${args.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
