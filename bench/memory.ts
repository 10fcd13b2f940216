/**
 * Server memory (issue #11 goal 5), measured on `openem serve` itself as a separate process, from its
 * /proc/PID/status: resident memory (VmRSS) idle after start, and the peak (VmHWM, the kernel's high-water
 * mark) while 20 clients download the same 1 GiB guest file of a mounted restore point at once, and the
 * growth of one 10,000-entry listing. The VM is made and backed up by the CLI as a user would.
 * Goals: idle < 150 MiB; 20 parallel 1 GiB downloads < 400 MiB peak; a 10,000-entry listing adds < 50 MiB.
 * Baseline: the same server's idle RSS, printed beside the peak (the ratio is not the goal; the goals are absolute).
 * Usage: node --import tsx bench/memory.ts [downloads=20]     (after `npm run build`; never part of npm test)
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { reportResult } from './support/bench-result.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const PASSWORD = 'bench-admin-1';
const MAIN = resolve('dist/src/main.js');
const downloads = Number(process.argv[2] ?? 20);

/** A free loopback port (the server takes fixed ports from flags). */
async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer().once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** VmRSS and VmHWM of a process, in MiB. */
async function memoryOf(pid: number): Promise<{ rss: number; hwm: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) / 1024;
  return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
}

async function guestTree(dir: string): Promise<void> {
  const fh = await open(join(dir, 'big.bin'), 'w');
  const chunk = randomBytes(8 * MiB);
  for (let off = 0; off < GiB; off += chunk.length) await fh.write(chunk, 0, chunk.length, off);
  await fh.close();
  await mkdir(join(dir, 'many'));
  for (let i = 0; i < 10_000; i++) await writeFile(join(dir, 'many', `file-${String(i).padStart(5, '0')}.txt`), `entry ${i}\n`);
}

const cli = (dataDir: string, ...args: string[]) =>
  execFileSync(process.execPath, [MAIN, ...args], { env: { ...process.env, OPENEM_DATA_DIR: dataDir, OPENEM_ADMIN_PASSWORD: PASSWORD, OPENEM_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'] });

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'openem-bench-memory-'));
  const dataDir = join(work, 'data');
  let server: ReturnType<typeof spawn> | undefined;
  try {
    const src = join(work, 'src');
    await mkdir(src);
    console.log(`making a VM holding a 1 GiB file and a 10,000-entry folder in ${work} ...`);
    await guestTree(src);
    cli(dataDir, 'vm', 'create', 'mem01', '--from-dir', src, '--size', '2G');
    cli(dataDir, 'backup', 'mem01');

    const [httpPort, httpsPort] = [await freePort(), await freePort()];
    server = spawn(process.execPath, [MAIN, 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1', '--http-port', String(httpPort), '--https-port', String(httpsPort)], {
      env: { ...process.env, OPENEM_ADMIN_PASSWORD: PASSWORD, OPENEM_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    server.stdout!.on('data', (d) => (out += d));
    await until('the server to listen', async () => (out.includes('listening:') ? true : server!.exitCode !== null ? Promise.reject(new Error(out)) : undefined));
    const pid = server.pid!;
    const api = `http://127.0.0.1:${httpPort}/api`;

    // Idle: after start, the first requests answered (logon, a list) and a few seconds of quiet.
    const logon = await fetch(`${api}/sessionMngr/?v=latest`, { method: 'POST', headers: { Authorization: 'Basic ' + Buffer.from(`admin:${PASSWORD}`).toString('base64') } });
    const headers = { 'X-RestSvcSessionId': logon.headers.get('x-restsvcsessionid')!, Accept: 'application/json' };
    const get = async (url: string) => (await fetch(url, { headers })).json() as Promise<any>;
    const points = await get(`${api}/vmRestorePoints`);
    const pointId = (points.Refs as any[]).find((r) => r.Name.startsWith('mem01@')).UID.split(':').pop();
    await new Promise((r) => setTimeout(r, 3000));
    const idle = await memoryOf(pid);
    console.log(`idle server: ${idle.rss.toFixed(0)} MiB RSS`);

    const mounted = await (await fetch(`${api}/vmRestorePoints/${pointId}/mounts`, { method: 'POST', headers })).json() as any;
    const task = await until('the mount task', async () => {
      const t = await get(mounted.Href);
      return t.State === 'Finished' ? t : undefined;
    });
    const mountHref = (task.Links as any[]).find((l) => l.Rel === 'Related' && l.Type === 'VmRestorePointMount').Href as string;

    // One listing of the 10,000-entry folder, rendered as XML (what EM clients ask for by default).
    const beforeList = await memoryOf(pid);
    let listPeak = beforeList.rss;
    const listSampler = setInterval(() => void memoryOf(pid).then((m) => (listPeak = Math.max(listPeak, m.rss)), () => undefined), 10);
    const list = await fetch(`${mountHref}/many?action=listAll`, { headers: { ...headers, Accept: 'application/xml' } });
    const listBytes = (await list.arrayBuffer()).byteLength;
    clearInterval(listSampler);
    const afterList = await memoryOf(pid);
    // The high-water mark only moves past its old peak (the mount's); the samples see growth below it.
    const listingGrowth = Math.max(afterList.hwm - beforeList.hwm, Math.max(listPeak, afterList.rss) - beforeList.rss);
    console.log(`listing 10,000 entries (${(listBytes / MiB).toFixed(1)} MiB of XML, status ${list.status}): peak grew by ${listingGrowth.toFixed(0)} MiB`);

    let peakRss = 0;
    const sampler = setInterval(() => void memoryOf(pid).then((m) => (peakRss = Math.max(peakRss, m.rss)), () => undefined), 50);
    const t = performance.now();
    const sizes = await Promise.all(
      Array.from({ length: downloads }, async () => {
        const r = await fetch(`${mountHref}/big.bin?action=download`, { headers });
        if (r.status !== 200) throw new Error(`download answered ${r.status}`);
        let n = 0;
        for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) n += c.length;
        return n;
      }),
    );
    clearInterval(sampler);
    const s = (performance.now() - t) / 1000;
    const after = await memoryOf(pid);
    if (sizes.some((n) => n !== GiB)) throw new Error(`a download was short: ${sizes.join(', ')}`);
    console.log(`${downloads} parallel 1 GiB downloads: ${s.toFixed(1)} s (${((downloads * GiB) / MiB / s).toFixed(0)} MiB/s in all); peak RSS ${Math.max(peakRss, after.hwm).toFixed(0)} MiB (VmHWM ${after.hwm.toFixed(0)}, sampled ${peakRss.toFixed(0)}), idle was ${idle.rss.toFixed(0)} MiB`);

    console.log(`\nsummary (load ${loadavg().map((l) => l.toFixed(1)).join(' ')} at the end)`);
    reportResult('idle server RSS', idle.rss, '<', 150, { unit: 'MiB', baseline: 'absolute (openem serve, /proc VmRSS)' });
    reportResult(`${downloads} parallel 1 GiB downloads, peak RSS`, after.hwm, '<', 400, { unit: 'MiB', baseline: `absolute (VmHWM); idle ${idle.rss.toFixed(0)} MiB` });
    reportResult('one 10,000-entry listing, peak growth', listingGrowth, '<', 50, { unit: 'MiB', baseline: 'VmHWM before the listing' });
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    await rm(work, { recursive: true, force: true });
  }
}

await main();
