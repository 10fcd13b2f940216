import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NbdClient } from '../../../src/platform/kvm/nbd-client.js';
import { serveImage } from '../../../src/platform/kvm/nbd-export.js';

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
