import { runHelper } from '../../host/helper-process.js';

export { findTool, requireTool } from '../../host/find-tool.js';

/** Runs a tool to completion (bound to this process's life); a non-zero exit becomes an error carrying its stderr. */
export async function runTool(path: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await runHelper(path, args, { maxBuffer: 16 * 1024 * 1024 });
  return { stdout: r.stdout, stderr: r.stderr };
}
