// The libvirt RPC client's receive buffer (message-chunks.ts) joins a message once, when all of it has come: a
// 32 MiB message in 64 KiB chunks is copied once (32 MiB), one held by a single chunk is not copied, a length word
// split across chunks is read whole, and messages in one-byte pieces come out as they went in.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MessageChunks } from '../../../src/platform/kvm/message-chunks.js';

function framed(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(4 + body.length);
  return Buffer.concat([head, body]);
}

/** Pushes `bytes` in pieces of `piece` bytes and takes every whole message as it completes. */
function feed(chunks: MessageChunks, bytes: Buffer, piece: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += piece) {
    chunks.push(bytes.subarray(at, at + piece));
    for (let length = chunks.nextLength(); length !== undefined; length = chunks.nextLength()) {
      const m = chunks.take(length);
      if (!m) break;
      out.push(m);
    }
  }
  return out;
}

test('a 32 MiB message in 64 KiB chunks is copied once', () => {
  const m = framed(randomBytes(32 * 1024 * 1024 - 4));
  const chunks = new MessageChunks();
  const out = feed(chunks, m, 64 * 1024);
  assert.equal(out.length, 1);
  assert.ok(out[0].equals(m));
  assert.equal(chunks.copiedBytes, m.length);
});

test('messages a chunk holds whole are not copied; a length word across chunks is read whole', () => {
  const ms = [framed(Buffer.from('one')), framed(Buffer.alloc(0)), framed(randomBytes(1000)), framed(Buffer.from('last'))];
  const all = Buffer.concat(ms);
  const whole = new MessageChunks();
  const out = feed(whole, all, all.length);
  assert.deepEqual(out.map((b) => b.toString('hex')), ms.map((b) => b.toString('hex')));
  assert.equal(whole.copiedBytes, 0);

  for (const piece of [1, 2, 3, 5, 7, 999]) {
    const pieces = new MessageChunks();
    assert.deepEqual(feed(pieces, all, piece).map((b) => b.toString('hex')), ms.map((b) => b.toString('hex')), `pieces of ${piece} bytes`);
    assert.ok(pieces.copiedBytes <= all.length, `pieces of ${piece} bytes: ${pieces.copiedBytes} bytes copied`);
    assert.equal(pieces.take(1), undefined, 'nothing is left');
    assert.equal(pieces.nextLength(), undefined);
  }
});
