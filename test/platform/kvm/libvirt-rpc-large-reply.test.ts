// A libvirt reply as large as a message may be (32 MiB, a domain list or an XML document) that arrives in 64 KiB
// writes is read whole and copied about once: the bytes Buffer.concat and Buffer#copy move while the client
// receives it stay under twice the reply's size. Joining the whole received buffer on every chunk, as the client
// once did, copied some 8 GiB for it. No time is measured.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { LibvirtRpc } from '../../../src/platform/kvm/libvirt-rpc.js';
import { fakeLibvirtSocket, replyHead } from './fake-libvirt-socket.js';

const MESSAGE_MAX = 32 * 1024 * 1024;

/** Counts the bytes Buffer.concat returns and Buffer#copy copies in this process until `stop()`. */
function countCopies(): { bytes: () => number; stop: () => void } {
  let bytes = 0;
  const concat = Buffer.concat;
  const copy = Buffer.prototype.copy;
  Buffer.concat = function (list: readonly Uint8Array[], totalLength?: number) {
    const out = concat.call(Buffer, list, totalLength);
    bytes += out.length;
    return out;
  } as typeof Buffer.concat;
  Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>) {
    const n = copy.apply(this, args);
    bytes += n;
    return n;
  };
  return {
    bytes: () => bytes,
    stop: () => {
      Buffer.concat = concat;
      Buffer.prototype.copy = copy;
    },
  };
}

test('a 32 MiB reply in 64 KiB writes is read whole and copied about once', { timeout: 300_000 }, async (t) => {
  const body = randomBytes(MESSAGE_MAX - 28);
  // Joined before the count starts: the fake daemon runs in this process.
  const whole = Buffer.concat([replyHead(14, 0, body.length), body]);
  const { path } = await fakeLibvirtSocket(t, 'rpc-large', (s) => {
    s.on('data', (d) => {
      // One call a data event here: connect.open (1) is answered empty, the next with the large body.
      const proc = d.readInt32BE(12);
      const serial = d.readUInt32BE(20);
      if (proc === 1) return void s.write(replyHead(1, serial, 0));
      whole.writeUInt32BE(serial, 20);
      for (let at = 0; at < whole.length; at += 64 * 1024) s.write(whole.subarray(at, at + 64 * 1024));
    });
  });
  const rpc = await LibvirtRpc.open(path, 'qemu:///system');
  t.after(() => rpc.close());

  const copies = countCopies();
  let got: Buffer;
  try {
    got = await rpc.call(14, Buffer.alloc(0));
  } finally {
    copies.stop();
  }
  assert.ok(got.equals(body), 'the reply body is what was sent');
  assert.ok(copies.bytes() < 2 * MESSAGE_MAX, `${copies.bytes()} bytes copied receiving a ${MESSAGE_MAX}-byte reply`);
});
