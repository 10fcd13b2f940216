#!/usr/bin/env node
// `npm run bench`: runs every benchmark in bench/ one after the other (each in its own process, so none warms the
// next one's caches), shows their output as it comes, and ends with one table of every figure against its goal.
// Usage: node scripts/run-bench.mjs [name...]   — only the named benches (file names in bench/: backup, backup-memory, restore, thin, flr, flr-ntfs, api, memory, guest-write, kvm, scale).
// Benches are never part of npm test; figures swing on a shared machine, which is why every goal is a ratio to a
// baseline run in the same process tree.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

const PREFIX = 'BENCH-RESULT ';
/** Arguments each bench runs with here (its defaults otherwise); kept small enough for a 2-core machine. */
const ARGS = { backup: ['4'], restore: ['4'], flr: [], api: ['5'], kvm: ['4'], scale: ['256', '6'] };

const wanted = process.argv.slice(2);
const benches = readdirSync('bench')
  .filter((f) => f.endsWith('.ts')) // one bench per file here; what they share lives in bench/support/
  .map((f) => f.slice(0, -3))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();
if (benches.length === 0) {
  console.error(`no bench matched ${wanted.join(', ')}`);
  process.exit(1);
}

function run(name) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `bench/${name}.ts`, ...(ARGS[name] ?? [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    const results = [];
    let pending = '';
    child.stdout.on('data', (chunk) => {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.startsWith(PREFIX)) results.push(JSON.parse(line.slice(PREFIX.length)));
        else process.stdout.write(`[${name}] ${line}\n`);
      }
    });
    child.on('exit', (code, signal) => resolve({ name, code: code ?? signal, results }));
  });
}

const runs = [];
for (const name of benches) {
  console.log(`\n=== bench/${name}.ts ${(ARGS[name] ?? []).join(' ')}`);
  runs.push(await run(name));
}

const rows = [['bench', 'figure', 'value', 'goal', 'met', 'baseline']];
for (const r of runs) {
  if (r.code !== 0) rows.push([r.name, `FAILED (exit ${r.code})`, '', '', 'no', '']);
  for (const x of r.results) {
    const value = Number.isFinite(x.value) ? `${x.value.toFixed(2)}${x.unit === 'x' ? 'x' : ` ${x.unit}`}` : 'n/a';
    rows.push([r.name, x.figure, value, x.goal, x.met ? 'yes' : 'NO', x.baseline ?? '']);
  }
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
console.log(`\nsummary (node ${process.version}, ${availableParallelism()} CPUs, load ${loadavg()[0].toFixed(1)} at the end)`);
for (const [i, row] of rows.entries()) {
  console.log(row.map((c, j) => c.padEnd(widths[j])).join('  ').trimEnd());
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
process.exit(runs.some((r) => r.code !== 0) ? 1 : 0);
