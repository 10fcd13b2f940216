import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NbdClient } from '../../../src/platform/kvm/nbd-client.js';
import { mapExtents, serveImage } from '../../../src/platform/kvm/nbd-export.js';

test('an image qemu-nbd cannot open (another writer holds its lock) is refused with qemu-nbd\'s reason, not a stale socket', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'openem-nbd-test-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const image = join(dir, 'disk.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', image, '16M']);

  const writer = await serveImage(image, 'qcow2', { writable: true });
  t.after(() => writer.stop());
  const client = await NbdClient.connect(writer.socket, writer.exportName);
  assert.equal(client.size, 16 * 1024 * 1024, 'the first export serves');
  await client.close();

  await assert.rejects(serveImage(image, 'qcow2', { writable: true }), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'UNAVAILABLE');
    assert.match(e.message, /lock/, 'the message carries qemu-nbd\'s reason');
    return true;
  });

  await writer.stop();
  const again = await serveImage(image, 'qcow2', { writable: false });
  t.after(() => again.stop());
  const reader = await NbdClient.connect(again.socket, again.exportName);
  assert.equal(reader.size, 16 * 1024 * 1024, 'once the writer is gone the image serves again');
  await reader.close();
});

test("block status through openem's own connection says what nbdinfo says, and reads on it are the image's bytes", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'openem-nbd-status-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const MiB = 1024 * 1024;
  const raw = join(dir, 'disk.raw');
  const bytes = Buffer.alloc(64 * MiB);
  for (const at of [0, 5, 6, 40, 63]) randomBytes(MiB).copy(bytes, at * MiB);
  writeFileSync(raw, bytes);
  const image = join(dir, 'disk.qcow2');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, image]);
  execFileSync('qemu-img', ['bitmap', '--add', '--enable', '-f', 'qcow2', image, 'since-now']);
  const writer = await serveImage(image, 'qcow2', { writable: true });
  const w = await NbdClient.connect(writer.socket, writer.exportName);
  for (const at of [6, 20]) {
    const block = randomBytes(MiB);
    block.copy(bytes, at * MiB);
    await w.write(at * MiB, block);
  }
  await w.close();
  await writer.stop();

  const served = await serveImage(image, 'qcow2', { writable: false, bitmap: 'since-now' });
  t.after(() => served.stop());
  const contexts = ['base:allocation', 'qemu:dirty-bitmap:since-now'];
  const client = await NbdClient.connect(served.socket, served.exportName, { metaContexts: contexts });
  t.after(() => client.close());
  for (const context of contexts) {
    const theirs = JSON.parse(execFileSync('nbdinfo', ['--json', `--map=${context}`, `nbd+unix:///${served.exportName}?socket=${served.socket}`], { encoding: 'utf8' })) as { offset: number; length: number; type: number }[];
    assert.deepEqual(await client.blockStatus(context), theirs.map(({ offset, length, type }) => ({ offset, length, type })), `${context} as nbdinfo maps it`);
  }
  assert.deepEqual(await mapExtents(client, 'qemu:dirty-bitmap:since-now', (type) => (type & 1) !== 0), [{ offset: 6 * MiB, length: MiB }, { offset: 20 * MiB, length: MiB }], 'the blocks written since the bitmap');
  const [all, holes] = await Promise.all([client.read(0, 64 * MiB), client.read(30 * MiB, 2 * MiB)]);
  assert.ok(all.equals(bytes), 'reads through the structured-reply connection are the image, data and holes');
  assert.ok(holes.equals(Buffer.alloc(2 * MiB)));
});

test('readInto fills a used buffer with the image bytes, holes as zeros, with structured and with simple replies', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'openem-nbd-into-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const MiB = 1024 * 1024;
  const raw = join(dir, 'disk.raw');
  const bytes = Buffer.alloc(16 * MiB);
  for (const at of [0, 2, 9]) randomBytes(MiB).copy(bytes, at * MiB);
  writeFileSync(raw, bytes);
  const image = join(dir, 'disk.qcow2');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, image]);
  const served = await serveImage(image, 'qcow2', { writable: false });
  t.after(() => served.stop());
  for (const metaContexts of [['base:allocation'], []]) {
    const client = await NbdClient.connect(served.socket, served.exportName, { metaContexts });
    try {
      // 12 MiB at 1 MiB: data, holes and data again, over two requests (8 MiB each at most).
      const target = Buffer.alloc(12 * MiB, 0xee);
      await client.readInto(MiB, target);
      assert.ok(target.equals(bytes.subarray(MiB, 13 * MiB)), `the bytes read into the buffer are the image's (${metaContexts.length ? 'structured' : 'simple'} replies)`);
    } finally {
      await client.close();
    }
  }
});

test('forty reads of odd sizes in flight at once land in their own places of one shared buffer, each exactly the image bytes', async (t) => {
  // The socket reads payloads straight into the callers' buffers and headers into a reused scratch buffer: replies
  // that arrive split anywhere, back to back and with a payload's start beside its header, must still each land
  // whole in their place and nowhere else.
  const dir = await mkdtemp(join(tmpdir(), 'openem-nbd-many-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const MiB = 1024 * 1024;
  const raw = join(dir, 'disk.raw');
  const bytes = randomBytes(48 * MiB);
  bytes.fill(0, 20 * MiB, 24 * MiB);
  writeFileSync(raw, bytes);
  const image = join(dir, 'disk.qcow2');
  execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, image]);
  const served = await serveImage(image, 'qcow2', { writable: false });
  t.after(() => served.stop());
  const reads = Array.from({ length: 40 }, (_, i) => ({ offset: i * MiB + 7 * i + 1, length: (i % 5 === 0 ? 3 : 1) * MiB - 13 * i + (i % 3) }));
  for (const metaContexts of [['base:allocation'], []]) {
    const client = await NbdClient.connect(served.socket, served.exportName, { metaContexts });
    try {
      const shared = Buffer.from(new SharedArrayBuffer(reads.reduce((n, r) => n + r.length + 16, 0)));
      shared.fill(0xee);
      let at = 0;
      const places = reads.map((r) => {
        const place = { ...r, at };
        at += r.length + 16;
        return place;
      });
      await Promise.all(places.map((p) => client.readInto(p.offset, shared.subarray(p.at, p.at + p.length))));
      const kind = metaContexts.length ? 'structured' : 'simple';
      for (const p of places) {
        assert.ok(shared.subarray(p.at, p.at + p.length).equals(bytes.subarray(p.offset, p.offset + p.length)), `read at ${p.offset} of ${p.length} bytes (${kind} replies)`);
        assert.ok(shared.subarray(p.at + p.length, p.at + p.length + 16).equals(Buffer.alloc(16, 0xee)), `nothing written past the read at ${p.offset} (${kind} replies)`);
      }
      const [a, b] = await Promise.all([client.read(5 * MiB + 3, 2 * MiB), client.read(19 * MiB, 6 * MiB)]);
      assert.ok(a.equals(bytes.subarray(5 * MiB + 3, 7 * MiB + 3)) && b.equals(bytes.subarray(19 * MiB, 25 * MiB)), `reads into buffers of their own beside them (${kind} replies)`);
    } finally {
      await client.close();
    }
  }
});
