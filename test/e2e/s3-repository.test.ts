// Issue #14 item 1 end to end: with OPENEM_REPOSITORY_URL=s3://… (an S3 server on loopback) the CLI backs a VM up
// into the bucket; the server restores it in place, rolls one changed block back (QuickRollback) and downloads a
// guest file through a mount, each with the bytes of backup time and each reading packs from the S3 server (its
// ranged pack GETs are counted: S3 has no local pack file for the codec workers to read); `repo check --read-data`
// reads every block back from S3; nothing goes to the data directory's repository folder.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { cliOk, runCli } from '../helpers/cli.js';
import { startServerProcess } from '../helpers/server-process.js';
import { EmClient, findLink } from '../helpers/em-client.js';
import { cleanupOf, fileCleanup, tempDir } from '../helpers/cleanup.js';
import { BLOCK_SIZE } from '../../src/disks/block-source.js';
import { S3BlobStore, s3OptionsFromEnv } from '../../src/repository/stores/s3/s3-blob-store.js';
import { scribble, sha256File } from '../services/restore-vm/restore-fixtures.js';
import { diskPathOf, findPointEntity, logLines, rootOf, waitForSession, waitForTask } from './vm-restore-fixtures.js';
import { mount, pointIdOf } from '../services/mounts/flr-fixture.js';
import { packRangeGets, S3RVER_KEY, startS3Server, type S3TestServer } from '../repository/s3-test-server.js';

describe('on an s3:// repository', () => {
  const cleanup = fileCleanup();
  let s3: S3TestServer;
  let env: Record<string, string>;
  let dataDir: string;
  let src: string;
  let disk: string;
  let atBackup: string;
  /** A block of the disk that holds data at backup time (a QuickRollback fetches it; a hole it would only zero). */
  let dataBlock: number;
  let c: EmClient;

  before(async () => {
    s3 = await startS3Server();
    cleanup.defer(() => s3.stop());
    const url = `s3://${s3.bucket}/openem-${randomUUID()}`;
    env = { ...s3.env, OPENEM_REPOSITORY_URL: url };
    dataDir = tempDir(cleanup, 'openem-s3-e2e-');
    src = tempDir(cleanup, 'openem-s3-src-');
    mkdirSync(join(src, 'etc'));
    writeFileSync(join(src, 'etc', 'hostname'), 'vm\n');
    writeFileSync(join(src, 'big.bin'), randomBytes(40 * 2 ** 20));

    await cliOk(dataDir, ['vm', 'create', 's3vm', '--from-dir', src, '--size', '64M'], { env });
    disk = await diskPathOf(dataDir, 's3vm');
    atBackup = await sha256File(disk);
    const image = readFileSync(disk);
    dataBlock = image.length / BLOCK_SIZE - 1;
    while (dataBlock > 0 && image.subarray(dataBlock * BLOCK_SIZE, (dataBlock + 1) * BLOCK_SIZE).every((b) => b === 0)) dataBlock--;
    const backup = JSON.parse(await cliOk(dataDir, ['backup', 's3vm', '--json'], { env }));
    assert.equal(backup[0].pointType, 'Full');

    const server = await startServerProcess({ dataDir, env });
    cleanup.defer(() => server.stop());
    c = new EmClient(server.http, 'json');
    await c.logOn();
  });

  /** Runs `work` and returns the ranged GETs of pack objects the S3 server received meanwhile. */
  async function packGetsDuring(work: () => Promise<void>): Promise<number> {
    const before = packRangeGets(s3.requests);
    await work();
    return packRangeGets(s3.requests) - before;
  }

  /** Restores the VM's point in place through its Restore link, with `spec` as the body (none: EM's defaults). */
  async function restoreInPlace(spec?: object): Promise<any> {
    const point = await findPointEntity(c, 's3vm');
    const posted = await c.request('POST', findLink(point, 'Restore')!.Href, spec ? { body: JSON.stringify(spec) } : {});
    assert.equal(posted.status, 202, posted.text);
    const session = await waitForSession(c, await waitForTask(c, rootOf(posted.body, 'json', 'Task').Href));
    assert.equal(session.Result, 'Success', JSON.stringify(session));
    return session;
  }

  test('the CLI backs a VM up into the bucket, nothing into the data directory', async () => {
    assert.equal(existsSync(join(dataDir, 'repository')), false, 'nothing was written to the local repository folder');
    const store = S3BlobStore.fromUrl(new URL(env.OPENEM_REPOSITORY_URL), { ...s3OptionsFromEnv(s3.env), credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY } });
    cleanup.defer(() => store.destroy());
    const keys = await store.list('');
    assert.ok(keys.includes('config.json'), keys.join(' '));
    assert.ok(keys.some((k) => k.startsWith('packs/') && k.endsWith('.pack')), 'packs are in the bucket');
    assert.ok(keys.some((k) => k.startsWith('manifests/')), 'the manifest is in the bucket');
  });

  test('a full restore in place reads its packs from S3 and gives the disk the bytes of backup time', async (t) => {
    const reference = join(tempDir(cleanup, 'openem-s3-ref-'), 'disk0.img');
    await copyFile(disk, reference);
    await scribble(disk, [0, 5, 20, 40]);
    assert.notEqual(await sha256File(disk), atBackup);
    let session: any;
    const gets = await packGetsDuring(async () => {
      session = await restoreInPlace();
    });
    assert.equal(await sha256File(disk), atBackup, 'the restored disk has the bytes of backup time');
    assert.equal(await sha256File(reference), atBackup);
    const line = (await logLines(c, session)).find((l) => l.startsWith('Disk disk0:')) ?? '';
    const fetched = Number(/fetched (\d+) blocks/.exec(line)?.[1]);
    assert.ok(fetched > 0, line);
    // A full restore on the local platform writes replacement disks from aligned fetches, at most 16 blocks a ranged
    // read (block-fetcher.ts ALIGNED_READ_BLOCKS): fewer pack GETs than that would mean blocks came from elsewhere.
    assert.ok(gets >= Math.ceil(fetched / 16), `the restore read its ${fetched} blocks from the S3 server (${gets} ranged pack GETs)`);
    t.diagnostic(`fetched ${fetched} blocks in ${gets} ranged pack GETs`);
  });

  test('a QuickRollback after one block changed fetches that block from S3 and writes only it', async (t) => {
    assert.equal(await sha256File(disk), atBackup, 'the disk starts as it was at backup (the full restore before)');
    await scribble(disk, [dataBlock]);
    assert.notEqual(await sha256File(disk), atBackup);
    let session: any;
    const gets = await packGetsDuring(async () => {
      session = await restoreInPlace({ VmRestoreSpec: { PowerOnAfterRestore: false, QuickRollback: true } });
    });
    assert.equal(await sha256File(disk), atBackup, 'the rolled-back disk has the bytes of backup time');
    const line = (await logLines(c, session)).find((l) => l.startsWith('Disk disk0:'));
    assert.match(line ?? '', /fetched 1 blocks .* wrote 1 blocks, zeroed 0 blocks, left 63 blocks unchanged/);
    assert.ok(gets >= 1, `the rollback read its block from the S3 server (${gets} ranged pack GETs)`);
    t.diagnostic(`ranged pack GETs: ${gets}`);
  });

  test('a file downloaded through a mount reads its blocks from S3 and has the bytes of backup time', async (t) => {
    const id = await pointIdOf(c, 's3vm');
    let bytes = Buffer.alloc(0);
    const gets = await packGetsDuring(async () => {
      const href = await mount(cleanupOf(t), c, id);
      const res = await fetch(`${href}/big.bin?action=download`, { headers: { 'X-RestSvcSessionId': c.token! } });
      bytes = Buffer.from(await res.arrayBuffer());
      assert.equal(res.status, 200, bytes.subarray(0, 2000).toString());
    });
    assert.ok(bytes.equals(readFileSync(join(src, 'big.bin'))), `big.bin downloads byte for byte (${bytes.length} bytes)`);
    assert.ok(gets > 0, `the download read packs from the S3 server (${gets} ranged pack GETs)`);
    t.diagnostic(`ranged pack GETs: ${gets}`);
  });

  test('repo check --read-data reads every block back from S3 and finds the repository clean', async (t) => {
    const gets = await packGetsDuring(async () => {
      assert.match(await cliOk(dataDir, ['repo', 'check', '--read-data'], { env }), /repository is clean/);
    });
    assert.ok(gets > 0, `the check read packs from the S3 server (${gets} ranged pack GETs)`);
    t.diagnostic(`ranged pack GETs: ${gets}`);
  });
});

test('openem repo copy --to s3://… copies a local repository whole; the copy checks clean and a second copy over it is refused', async (t) => {
  const cleanup = cleanupOf(t);
  const s3 = await startS3Server();
  cleanup.defer(() => s3.stop());
  const dataDir = tempDir(cleanup, 'openem-s3-copy-');
  const src = tempDir(cleanup, 'openem-s3-copy-src-');
  writeFileSync(join(src, 'big.bin'), randomBytes(20 * 2 ** 20));
  await cliOk(dataDir, ['vm', 'create', 'copyvm', '--from-dir', src, '--size', '48M']);
  await cliOk(dataDir, ['backup', 'copyvm']);
  await cliOk(dataDir, ['backup', 'copyvm']);
  const local = JSON.parse(await cliOk(dataDir, ['repo', 'check', '--json']));

  const url = `s3://${s3.bucket}/copied-${randomUUID()}`;
  const copied = JSON.parse(await cliOk(dataDir, ['repo', 'copy', '--to', url, '--json'], { env: s3.env }));
  assert.ok(copied.objects >= 4 && copied.bytes > 0, JSON.stringify(copied));

  const remote = JSON.parse(await cliOk(dataDir, ['repo', 'check', '--read-data', '--json'], { env: { ...s3.env, OPENEM_REPOSITORY_URL: url } }));
  assert.equal(remote.ok, true, JSON.stringify(remote.problems));
  assert.equal(remote.manifests, 2);
  assert.equal(remote.manifests, local.manifests);
  assert.equal(remote.packs, local.packs);

  const again = await runCli(dataDir, ['repo', 'copy', '--to', url], { env: s3.env });
  assert.equal(again.code, 1, 'a copy over a repository is refused (CONFLICT: s3-blob-store.test.ts)');
});
