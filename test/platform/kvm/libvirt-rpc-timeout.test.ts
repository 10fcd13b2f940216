// A libvirt daemon that takes the connection and never answers must not hang openem (server start, listings,
// backups and restores all wait on it): connect.open and every call give up after their timeout with UNAVAILABLE
// naming the procedure, the connection ends, and the next call through Libvirt opens a new one. Each test has a
// timeout of its own so that, should a call wait forever, the test fails instead of hanging; nothing asserts how
// long a call took.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Libvirt } from '../../../src/platform/kvm/libvirt.js';
import { LibvirtRpc } from '../../../src/platform/kvm/libvirt-rpc.js';
import { XdrWriter } from '../../../src/platform/kvm/xdr.js';
import { fakeLibvirtSocket, replyMessage } from './fake-libvirt-socket.js';

const GUARD = { timeout: 30_000 };

/**
 * A fake daemon: `answers(connection, proc)` says whether the connection's call of `proc` is answered (with an
 * empty list body), connections counted from 0. Calls not answered are read and left waiting.
 */
async function fakeDaemon(t: { after(fn: () => unknown): void }, answers: (connection: number, proc: number) => boolean): Promise<{ path: string; connections: () => number }> {
  return fakeLibvirtSocket(t, 'rpc-timeout', (s, connection) => {
    let received = Buffer.alloc(0);
    s.on('data', (d) => {
      received = Buffer.concat([received, d]);
      while (received.length >= 4 && received.length >= received.readUInt32BE(0)) {
        const length = received.readUInt32BE(0);
        const proc = received.readInt32BE(12);
        const serial = received.readUInt32BE(20);
        received = received.subarray(length);
        if (answers(connection, proc)) s.write(replyMessage(proc, serial, 0, new XdrWriter().u32(0).u32(0).bytes()));
      }
    });
  });
}

const unavailable = (pattern: RegExp) => (e: unknown) => (e as { code?: string }).code === 'UNAVAILABLE' && pattern.test((e as Error).message);

test('connect.open on a socket that never answers fails with UNAVAILABLE naming the procedure', GUARD, async (t) => {
  const { path } = await fakeDaemon(t, () => false);
  await assert.rejects(LibvirtRpc.open(path, 'qemu:///system', path, { timeoutMs: 200 }), unavailable(/did not answer procedure 1 within 200 ms/));
});

test('a call not answered in time is UNAVAILABLE, ends the connection and fails the other waiting calls', GUARD, async (t) => {
  const { path } = await fakeDaemon(t, (_, proc) => proc === 1);
  const rpc = await LibvirtRpc.open(path, 'qemu:///system', path, { timeoutMs: 5000 });
  t.after(() => rpc.close());
  const other = rpc.call(273, Buffer.alloc(0), { timeoutMs: 600_000 });
  await assert.rejects(rpc.call(14, Buffer.alloc(0), { timeoutMs: 200 }), unavailable(/did not answer procedure 14 within 200 ms/));
  assert.equal(rpc.isOpen, false);
  await assert.rejects(other, unavailable(/connection was reset: procedure 14 was not answered/));
  await assert.rejects(rpc.call(273, Buffer.alloc(0)), unavailable(/unreachable/), 'later calls on it fail at once');
});

test("Libvirt's calls have a default timeout, and the call after one that timed out opens a new connection", GUARD, async (t) => {
  // The first connection answers connect.open only; the second answers everything.
  const daemon = await fakeDaemon(t, (connection, proc) => proc === 1 || connection > 0);
  const libvirt = await Libvirt.open(`qemu:///system?socket=${daemon.path}`, { timeoutMs: 300 });
  t.after(() => libvirt.close());
  assert.equal(libvirt.overRpc, true);
  await assert.rejects(libvirt.domains(), unavailable(/procedure 273/));
  assert.deepEqual(await libvirt.domains(), []);
  assert.equal(daemon.connections(), 2);
});
