/**
 * Page-aligned shared memory, for writes that bypass the page cache (O_DIRECT wants aligned memory, offsets and
 * lengths). Node hands out no aligned Buffer (its allocations start 16 bytes into a page, and O_DIRECT refuses them
 * with EINVAL); a WebAssembly memory starts on a page boundary. Shared, so codec workers can decode into it.
 */
export const PAGE_SIZE = 4096;
const WASM_PAGE = 64 * 1024;

/** The buffers made here: a view into one of them at a page-aligned offset may go to O_DIRECT as it is. */
const alignedBuffers = new WeakSet<ArrayBufferLike>();

/** `bytes` (rounded up to 64 KiB) of zeroed, page-aligned shared memory. */
export function alignedSharedMemory(bytes: number): SharedArrayBuffer {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  const buf = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true }).buffer as unknown as SharedArrayBuffer;
  alignedBuffers.add(buf);
  return buf;
}

/** Whether `view` starts on a page boundary of memory made by `alignedSharedMemory`. */
export function isPageAligned(view: Uint8Array): boolean {
  return alignedBuffers.has(view.buffer) && view.byteOffset % PAGE_SIZE === 0;
}
