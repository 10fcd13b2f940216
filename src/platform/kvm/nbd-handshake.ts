import { OpenemError } from '../../errors.js';

const NBDMAGIC = Buffer.from('NBDMAGIC');
const IHAVEOPT = 0x49484156454f5054n;
const OPT_REPLY_MAGIC = 0x3e889045565a9n;
const NBD_OPT_GO = 7;
const NBD_OPT_STRUCTURED_REPLY = 8;
const NBD_OPT_SET_META_CONTEXT = 10;
const NBD_REP_ACK = 1;
const NBD_REP_INFO = 3;
const NBD_REP_META_CONTEXT = 4;
const NBD_INFO_EXPORT = 0;

/** The connection as the handshake uses it: bytes as they come, and bytes sent. */
export interface HandshakeIo {
  take(n: number): Promise<Buffer>;
  write(data: Buffer): void;
}

/** What the server agreed to: the export's size and writability, structured replies, the metadata contexts' ids. */
export interface NbdExportInfo {
  size: number;
  readOnly: boolean;
  structured: boolean;
  contexts: Map<string, number>;
}

function option(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(16);
  head.writeBigUInt64BE(IHAVEOPT, 0);
  head.writeUInt32BE(type, 8);
  head.writeUInt32BE(data.length, 12);
  return Buffer.concat([head, data]);
}

/** Option replies up to NBD_REP_ACK; `each` sees the others. An error reply throws. */
async function optionReplies(io: HandshakeIo, what: string, each: (type: number, body: Buffer) => void): Promise<void> {
  for (;;) {
    const head = await io.take(20);
    if (head.readBigUInt64BE(0) !== OPT_REPLY_MAGIC) throw new OpenemError('UNAVAILABLE', 'bad NBD option reply');
    const type = head.readUInt32BE(12);
    const body = await io.take(head.readUInt32BE(16));
    if (type === NBD_REP_ACK) return;
    if (type & 0x80000000) throw new OpenemError('NOT_FOUND', `the NBD server refused ${what}: ${body.toString('utf8') || `error ${type}`}`);
    each(type, body);
  }
}

/**
 * The newstyle fixed handshake (NBD's doc/proto.md "Handshake"): the greeting, then, when `metaContexts` are
 * asked for, structured replies and NBD_OPT_SET_META_CONTEXT, then NBD_OPT_GO for export `exportName`.
 */
export async function negotiate(io: HandshakeIo, exportName: string, metaContexts: readonly string[]): Promise<NbdExportInfo> {
  const greeting = await io.take(18);
  if (!greeting.subarray(0, 8).equals(NBDMAGIC) || greeting.readBigUInt64BE(8) !== IHAVEOPT) {
    throw new OpenemError('UNAVAILABLE', 'the NBD server does not speak the newstyle protocol');
  }
  const noZeroes = (greeting.readUInt16BE(16) & 2) !== 0;
  const flags = Buffer.alloc(4);
  flags.writeUInt32BE(1 | (noZeroes ? 2 : 0));
  const name = Buffer.from(exportName, 'utf8');
  const nameField = Buffer.alloc(4 + name.length);
  nameField.writeUInt32BE(name.length, 0);
  name.copy(nameField, 4);
  io.write(flags);
  const info: NbdExportInfo = { size: 0, readOnly: true, structured: false, contexts: new Map() };
  if (metaContexts.length > 0) {
    io.write(option(NBD_OPT_STRUCTURED_REPLY, Buffer.alloc(0)));
    await optionReplies(io, 'structured replies', () => undefined);
    info.structured = true;
    const queries = metaContexts.map((c) => Buffer.from(c, 'utf8'));
    const count = Buffer.alloc(4);
    count.writeUInt32BE(queries.length);
    const fields = queries.flatMap((q) => {
      const n = Buffer.alloc(4);
      n.writeUInt32BE(q.length);
      return [n, q];
    });
    io.write(option(NBD_OPT_SET_META_CONTEXT, Buffer.concat([nameField, count, ...fields])));
    await optionReplies(io, `the metadata contexts of export '${exportName}'`, (type, body) => {
      if (type === NBD_REP_META_CONTEXT) info.contexts.set(body.subarray(4).toString('utf8'), body.readUInt32BE(0));
    });
  }
  io.write(option(NBD_OPT_GO, Buffer.concat([nameField, Buffer.alloc(2)])));
  await optionReplies(io, `export '${exportName}'`, (type, body) => {
    if (type === NBD_REP_INFO && body.readUInt16BE(0) === NBD_INFO_EXPORT) {
      info.size = Number(body.readBigUInt64BE(2));
      info.readOnly = (body.readUInt16BE(10) & 2) !== 0;
    }
  });
  return info;
}
