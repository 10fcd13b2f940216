// What openem's libvirt RPC client (libvirt-rpc.ts) does with replies libvirt would not send, from a socket that
// answers connect.open and then the scenario's bytes: an oversized or undersized length word ends the connection
// with UNAVAILABLE (no 4 GiB buffer is waited for), a reply in one-byte pieces or after one for another serial is
// still matched to its call, a remote_error names NOT_FOUND for no such domain and keeps libvirt's message, a
// garbled error body is still an error, and a body shorter than its fields is UNAVAILABLE when read.
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { LibvirtRpc } from '../../../src/platform/kvm/libvirt-rpc.js';
import { XdrReader, XdrWriter } from '../../../src/platform/kvm/xdr.js';
import { fakeLibvirtSocket, REMOTE_PROGRAM, replyMessage as reply } from './fake-libvirt-socket.js';

/** Calls as the client sends them: procedure and serial of each complete message. */
function callsIn(received: Buffer): { proc: number; serial: number }[] {
  const out: { proc: number; serial: number }[] = [];
  for (let at = 0; at + 4 <= received.length; ) {
    const length = received.readUInt32BE(at);
    if (at + length > received.length) break;
    out.push({ proc: received.readInt32BE(at + 12), serial: received.readUInt32BE(at + 20) });
    at += length;
  }
  return out;
}

/** A fake daemon: connect.open is answered OK, every later call by `answer` (which writes what it likes). */
async function fakeDaemon(t: { after(fn: () => unknown): void }, answer: (s: Socket, call: { proc: number; serial: number }) => void): Promise<string> {
  const daemon = await fakeLibvirtSocket(t, 'rpc-hostile', (s) => {
    let received = Buffer.alloc(0);
    let handled = 0;
    s.on('data', (d) => {
      received = Buffer.concat([received, d]);
      const calls = callsIn(received);
      for (; handled < calls.length; handled++) {
        const c = calls[handled];
        if (c.proc === 1) s.write(reply(1, c.serial, 0, Buffer.alloc(0)));
        else answer(s, c);
      }
    });
  });
  return daemon.path;
}

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

test('an oversized or undersized length word ends the connection with UNAVAILABLE', async (t) => {
  for (const length of [0xffffffff, 32 * 1024 * 1024 + 1, 8]) {
    const path = await fakeDaemon(t, (s) => s.write(new XdrWriter().u32(length).u32(REMOTE_PROGRAM).bytes()));
    const rpc = await LibvirtRpc.open(path, 'qemu:///system');
    await assert.rejects(rpc.call(14, Buffer.alloc(0)), (e: Error) => code('UNAVAILABLE')(e) && /is not libvirt's/.test(e.message), `length ${length}`);
    assert.equal(rpc.isOpen, false);
    await assert.rejects(rpc.call(14, Buffer.alloc(0)), code('UNAVAILABLE'), 'later calls fail at once');
  }
});

test('a reply in one-byte pieces, after a reply to a serial nobody waits for, is matched to its call', async (t) => {
  const path = await fakeDaemon(t, (s, c) => {
    s.write(reply(c.proc, c.serial + 1000, 0, new XdrWriter().string('not yours').bytes()));
    const right = reply(c.proc, c.serial, 0, new XdrWriter().string('yours').bytes());
    for (const byte of right) s.write(Buffer.from([byte]));
  });
  const rpc = await LibvirtRpc.open(path, 'qemu:///system');
  t.after(() => rpc.close());
  assert.equal(new XdrReader(await rpc.call(14, Buffer.alloc(0), { timeoutMs: 60_000 })).string(), 'yours');
});

test("remote_error: no such domain is NOT_FOUND, another code keeps libvirt's message, a garbled body is still an error", async (t) => {
  const bodies = [
    new XdrWriter().i32(42).i32(10).u32(1).string('Domain not found: no domain with matching uuid').bytes(),
    new XdrWriter().i32(55).i32(10).u32(1).string('Requested operation is not valid: domain is not running').bytes(),
    Buffer.from([0, 0]),
  ];
  let next = 0;
  const path = await fakeDaemon(t, (s, c) => s.write(reply(c.proc, c.serial, 1, bodies[next++])));
  const rpc = await LibvirtRpc.open(path, 'qemu:///system');
  t.after(() => rpc.close());
  await assert.rejects(rpc.call(14, Buffer.alloc(0)), (e: Error) => code('NOT_FOUND')(e) && /no domain with matching uuid/.test(e.message));
  await assert.rejects(rpc.call(14, Buffer.alloc(0)), /domain is not running/);
  await assert.rejects(rpc.call(14, Buffer.alloc(0)), /procedure 14 failed: no message/);
  assert.equal(rpc.isOpen, true, 'an error reply does not end the connection');
});

test('a body shorter than its fields is UNAVAILABLE when read, not a read past the message', async (t) => {
  const path = await fakeDaemon(t, (s, c) => s.write(reply(c.proc, c.serial, 0, new XdrWriter().u32(1000).bytes())));
  const rpc = await LibvirtRpc.open(path, 'qemu:///system');
  t.after(() => rpc.close());
  const body = await rpc.call(14, Buffer.alloc(0));
  assert.throws(() => new XdrReader(body).string(), (e: Error) => code('UNAVAILABLE')(e) && /shorter than its fields/.test(e.message));
  assert.throws(() => new XdrReader(new XdrWriter().u32(0xffffffff).bytes()).array((r) => r.u32()), code('UNAVAILABLE'));
});
