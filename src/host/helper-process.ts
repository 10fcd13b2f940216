import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { OpenemError } from '../errors.js';
import { requireTool } from './find-tool.js';

/**
 * Every program openem runs (e2fsck, mke2fs, filefrag, fallocate, fuse2fs, …) is started here, so that none
 * outlives the server (issue 9 §8): the child is exec'd through util-linux `setpriv --pdeathsig KILL --`, which
 * sets PR_SET_PDEATHSIG and then execs the tool in the same process (same pid). When the server dies, even by
 * SIGKILL, the kernel kills the tool.
 *
 * Rules for callers:
 * - argv arrays only; no shell, no command line that another program parses (STYLE.md).
 * - A FUSE daemon (fuse2fs) must run in the foreground (`-f`): a daemon that forks itself loses the death signal
 *   (PR_SET_PDEATHSIG is cleared in a forked child). The same holds for any tool that forks workers of its own.
 * - Spawn from the main thread: Linux sends the death signal when the spawning *thread* exits, so a helper spawned
 *   from a worker thread would die with that worker.
 * - setuid programs (fusermount) drop the death signal at exec; they are short-lived, and run here all the same.
 * - A server killed between fork and setpriv's prctl would leave that tool unbound (setpriv does not re-check its
 *   parent). So setpriv execs a fixed guard, `sh -c PARENT_GUARD`, which compares its parent with the server's
 *   pid (after the prctl) and only then execs the tool; an orphan exits 125 instead. The tool and its arguments
 *   are the guard's positional parameters ("$@"): never parsed, and still the same pid.
 */

/** Options shared by spawnHelper and runHelper. */
export interface HelperOptions {
  /** Environment of the child; default this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Debian package named in the error when the tool is missing (default: none named). */
  debianPackage?: string;
  /** Aborting kills the child (SIGKILL). */
  signal?: AbortSignal;
}

export interface RunHelperOptions extends HelperOptions {
  /** Kill the child (SIGKILL) and fail with UNAVAILABLE after this long. */
  timeoutMs?: number;
  /** Most bytes of stdout (and, separately, stderr) kept; more kills the child and fails. Default 64 MiB. */
  maxBuffer?: number;
  /** Exit codes that count as success (default [0]); 'any' resolves for every exit code. */
  acceptExitCodes?: readonly number[] | 'any';
  /** Bytes written to the child's stdin, which is then closed (default: stdin is /dev/null). */
  input?: Buffer;
}

export interface HelperResult {
  /** Exit code, or null when a signal ended the child. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

/** A long-running helper (a FUSE daemon): `stop` signals it and waits for it to end. */
export interface HelperProcess {
  child: ChildProcess;
  pid: number;
  /** Settles when the child has exited; never rejects. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (default SIGTERM), then SIGKILL after `graceMs` (default 5 s); resolves once it has exited. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;
let setprivFound: Promise<string> | undefined;

/**
 * util-linux setpriv (2.33 or later has --pdeathsig; Debian's util-linux is essential, so it is always present).
 * Exported for the hole-punching batch, whose xargs starts each fallocate through it.
 */
export function setprivPath(): Promise<string> {
  setprivFound ??= requireTool('setpriv', 'util-linux').catch((e) => {
    setprivFound = undefined;
    throw e;
  });
  return setprivFound;
}

/** Exit code of a helper whose parent was gone before its death signal was armed. */
export const ORPHANED_AT_START_EXIT = 125;
/** $PPID is the shell's parent at its start, read after setpriv's prctl: if it is not the server, the server died. */
const PARENT_GUARD = `[ "$PPID" = "$1" ] || exit ${ORPHANED_AT_START_EXIT}; shift; exec "$@"`;

/** The argv that runs `toolPath args…` bound to the life of process `parentPid` (this process by default). */
export async function deathBoundArgv(toolPath: string, args: readonly string[], parentPid = process.pid): Promise<{ file: string; args: string[] }> {
  return { file: await setprivPath(), args: ['--pdeathsig', 'KILL', '--', '/bin/sh', '-c', PARENT_GUARD, 'openem-helper', String(parentPid), toolPath, ...args] };
}

async function resolveTool(tool: string, debianPackage: string | undefined): Promise<string> {
  return requireTool(tool, debianPackage ?? (tool.split('/').pop() as string));
}

function startChild(file: string, argv: string[], opts: HelperOptions, stdio: StdioOptions): ChildProcess {
  return spawn(file, argv, { env: opts.env ?? process.env, cwd: opts.cwd, stdio, shell: false, windowsHide: true });
}

function waitForSpawn(child: ChildProcess, tool: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e) => reject(new OpenemError('UNAVAILABLE', `${tool} could not be started: ${e.message}`, { cause: e })));
  });
}

/**
 * Starts a long-running helper (e.g. `fuse2fs -f …`). `tool` is a name (looked up on PATH and in sbin) or an
 * absolute path. Resolves once the process exists; its output is the caller's (stdio default: ignore, pipe, pipe).
 */
export async function spawnHelper(
  tool: string,
  args: readonly string[],
  opts: HelperOptions & { stdio?: StdioOptions } = {},
): Promise<HelperProcess> {
  const path = await resolveTool(tool, opts.debianPackage);
  const argv = await deathBoundArgv(path, args);
  const child = startChild(argv.file, argv.args, opts, opts.stdio ?? ['ignore', 'pipe', 'pipe']);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const onAbort = () => child.kill('SIGKILL');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  void exited.then(() => opts.signal?.removeEventListener('abort', onAbort));
  await waitForSpawn(child, tool);
  return {
    child,
    pid: child.pid as number,
    exited,
    stop: async (signal = 'SIGTERM', graceMs = 5000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        try {
          return await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      return exited;
    },
  };
}

/**
 * Runs a helper to completion and returns its output. Fails with INTERNAL (carrying stderr) on an exit code not
 * in `acceptExitCodes`, with UNAVAILABLE when it cannot start or runs past `timeoutMs`.
 */
export async function runHelper(tool: string, args: readonly string[], opts: RunHelperOptions = {}): Promise<HelperResult> {
  const path = await resolveTool(tool, opts.debianPackage);
  const argv = await deathBoundArgv(path, args);
  const child = startChild(argv.file, argv.args, opts, [opts.input ? 'pipe' : 'ignore', 'pipe', 'pipe']);
  const limit = opts.maxBuffer ?? DEFAULT_MAX_BUFFER;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outBytes = 0;
  let errBytes = 0;
  let failure: OpenemError | undefined;
  const fail = (e: OpenemError) => {
    failure ??= e;
    child.kill('SIGKILL');
  };
  child.stdout!.on('data', (d: Buffer) => {
    outBytes += d.length;
    if (outBytes > limit) fail(new OpenemError('INTERNAL', `${tool} wrote more than ${limit} bytes of output`));
    else out.push(d);
  });
  child.stderr!.on('data', (d: Buffer) => {
    errBytes += d.length;
    if (errBytes <= limit) err.push(d);
  });
  if (opts.input) child.stdin!.end(opts.input);
  const timer = opts.timeoutMs ? setTimeout(() => fail(new OpenemError('UNAVAILABLE', `${tool} did not finish within ${opts.timeoutMs} ms`)), opts.timeoutMs) : undefined;
  const onAbort = () => fail(new OpenemError('INTERNAL', `${tool} was stopped: the work was cancelled`));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', (e) => reject(new OpenemError('UNAVAILABLE', `${tool} could not be started: ${e.message}`, { cause: e })));
      child.once('close', (c, s) => resolve({ code: c, signal: s }));
    });
    if (failure) throw failure;
    const stdoutBytes = Buffer.concat(out);
    const result: HelperResult = { code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes };
    const accepted = opts.acceptExitCodes === 'any' ? code !== null : (opts.acceptExitCodes ?? [0]).includes(code as number);
    if (!accepted) {
      const how = code === null ? `was killed by ${signal}` : `exited with ${code}`;
      throw new OpenemError('INTERNAL', `${path} ${args.join(' ')} ${how}: ${result.stderr.trim().slice(-2000) || result.stdout.trim().slice(-2000)}`);
    }
    return result;
  } finally {
    if (timer) clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
