import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XdrWriter } from '../../../src/platform/kvm/xdr.js';

export const REMOTE_PROGRAM = 0x20008086;

/** A reply message's header: length word, program, version, procedure, type REPLY, serial, status. */
export function replyHead(proc: number, serial: number, bodyLength: number, status = 0): Buffer {
  return new XdrWriter().u32(28 + bodyLength).u32(REMOTE_PROGRAM).u32(1).i32(proc).i32(1).u32(serial).i32(status).bytes();
}

/** A whole reply message: its header, then `body`. */
export function replyMessage(proc: number, serial: number, status: number, body: Buffer): Buffer {
  return Buffer.concat([replyHead(proc, serial, body.length, status), body]);
}

/**
 * A Unix socket standing in for libvirt's daemon, in a temporary folder of its own: `onConnection(socket, n)` is
 * given each connection (counted from 0) and does what the test needs with its bytes. The sockets, the server and
 * the folder go when the test ends, whether it passed or not.
 */
export async function fakeLibvirtSocket(
  t: { after(fn: () => unknown): void },
  name: string,
  onConnection: (socket: Socket, connection: number) => void,
): Promise<{ path: string; connections: () => number }> {
  const dir = await mkdtemp(join(tmpdir(), `openem-${name}-`));
  const path = join(dir, 'sock');
  const sockets = new Set<Socket>();
  let connections = 0;
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    onConnection(s, connections++);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  return { path, connections: () => connections };
}
