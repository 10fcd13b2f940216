import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { NbdClient } from '../../../src/platform/kvm/nbd-client.js';

/** Reads exactly `n` bytes off a socket. */
function reader(socket: Socket): (n: number) => Promise<Buffer> {
  let buffered = Buffer.alloc(0);
  let wake: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    buffered = Buffer.concat([buffered, d]);
    wake?.();
  });
  return async (n) => {
    while (buffered.length < n) await new Promise<void>((r) => (wake = r));
    const out = buffered.subarray(0, n);
    buffered = buffered.subarray(n);
    return out;
  };
}

/** An NBD server that negotiates structured replies and base:allocation, then answers `reply(handle)` to the first request. */
async function hostileServer(dir: string, reply: (handle: Buffer) => Buffer): Promise<{ path: string; close(): Promise<void> }> {
  const path = join(dir, 'nbd.sock');
  const server = createServer(async (socket) => {
    socket.on('error', () => undefined);
    const take = reader(socket);
    const greeting = Buffer.alloc(18);
    greeting.write('NBDMAGIC', 0);
    greeting.writeBigUInt64BE(0x49484156454f5054n, 8);
    greeting.writeUInt16BE(3, 16);
    socket.write(greeting);
    await take(4);
    const optionReply = (option: number, type: number, data: Buffer) => {
      const head = Buffer.alloc(20);
      head.writeBigUInt64BE(0x3e889045565a9n, 0);
      head.writeUInt32BE(option, 8);
      head.writeUInt32BE(type, 12);
      head.writeUInt32BE(data.length, 16);
      socket.write(Buffer.concat([head, data]));
    };
    for (;;) {
      const head = await take(16);
      const option = head.readUInt32BE(8);
      await take(head.readUInt32BE(12));
      if (option === 10) {
        const context = Buffer.alloc(4);
        context.writeUInt32BE(1);
        optionReply(option, 4, Buffer.concat([context, Buffer.from('base:allocation')]));
      }
      if (option === 7) {
        const info = Buffer.alloc(12);
        info.writeUInt16BE(0, 0);
        info.writeBigUInt64BE(1n << 20n, 2);
        info.writeUInt16BE(1, 10);
        optionReply(option, 3, info);
        optionReply(option, 1, Buffer.alloc(0));
        break;
      }
      optionReply(option, 1, Buffer.alloc(0));
    }
    const request = await take(28);
    socket.write(reply(request.subarray(8, 16)));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A structured reply chunk with the DONE flag. */
function chunk(handle: Buffer, type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32BE(0x668e33ef, 0);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(type, 6);
  handle.copy(head, 8);
  head.writeUInt32BE(payload.length, 16);
  return Buffer.concat([head, payload]);
}

test('an NBD reply that does not fit its request (a hole past the read, a status chunk too short) fails the connection with a clear error, not the process', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'openem-nbd-hostile-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const hole = Buffer.alloc(12);
  hole.writeBigUInt64BE(1n << 30n, 0);
  hole.writeUInt32BE(4096, 8);
  const replies = [
    { what: 'a hole far past the read', reply: (h: Buffer) => chunk(h, 2, hole) },
    { what: 'a block status chunk of two bytes', reply: (h: Buffer) => chunk(h, 5, Buffer.alloc(2)) },
  ];
  for (const { what, reply } of replies) {
    const server = await hostileServer(dir, reply);
    try {
      const client = await NbdClient.connect(server.path, 'disk', { metaContexts: ['base:allocation'] });
      const asked = what.includes('status') ? client.blockStatus('base:allocation') : client.read(0, 65536);
      await assert.rejects(asked, (e: Error & { code?: string }) => {
        assert.equal(e.code, 'UNAVAILABLE', what);
        assert.match(e.message, /bad NBD reply|closed the connection/, what);
        return true;
      });
      await client.close();
    } finally {
      await server.close();
    }
  }
});
