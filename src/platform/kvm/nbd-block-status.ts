import { OpenemError } from '../../errors.js';

/** One extent of a metadata context as the server describes it: its flags (`type`) hold for the whole range. */
export interface StatusExtent {
  offset: number;
  length: number;
  type: number;
}

/** Block status is asked for at most this much at once (the request length is 32 bits). */
const MAX_STATUS_REQUEST = 2 ** 31;

/**
 * The extents of one metadata context over a whole export of `size` bytes, in order. `ask(offset, length)`
 * sends one NBD_CMD_BLOCK_STATUS and answers that context's descriptors as [length, flags] pairs; the server may
 * describe less than asked at a time (proto.md "Metadata querying"), so it is asked again from where it stopped.
 */
export async function describeWholeExport(size: number, ask: (offset: number, length: number) => Promise<number[]>, what: string): Promise<StatusExtent[]> {
  const out: StatusExtent[] = [];
  for (let at = 0; at < size; ) {
    const pairs = await ask(at, Math.min(MAX_STATUS_REQUEST, size - at));
    const from = at;
    for (let i = 0; i < pairs.length && at < size; i += 2) {
      const length = Math.min(pairs[i], size - at);
      out.push({ offset: at, length, type: pairs[i + 1] });
      at += length;
    }
    if (at === from) throw new OpenemError('INTERNAL', `${what} described nothing at ${at}`);
  }
  return out;
}
