// Worker of bench/support/hash-bound.ts, plain JS so it needs no loader: the least a hash comparison of a local image can do
// on one core (pread into one reused buffer, an all-zero check and a BLAKE3 hash per block, nothing else), or BLAKE3
// alone over one cached buffer. Replies with its own thread's CPU seconds (/proc/thread-self/stat).
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { workerData, parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';

const { Blake3Hasher } = createRequire(workerData.resolveFrom)('@napi-rs/blake-hash');

/** utime + stime of this thread, in seconds (clock ticks of 1/100 s). */
function threadCpuS() {
  const fields = readFileSync('/proc/thread-self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const hash = (b) => new Blake3Hasher().update(b).digest('hex');

function readAndHash({ path, offset, length, readBytes, blockSize }) {
  const zero = Buffer.alloc(blockSize);
  const buf = Buffer.allocUnsafeSlow(readBytes);
  const fd = openSync(path, 'r');
  let hashed = 0;
  try {
    for (let at = 0; at < length; at += readBytes) {
      const want = Math.min(readBytes, length - at);
      let got = 0;
      while (got < want) {
        const n = readSync(fd, buf, got, want - got, offset + at + got);
        if (n === 0) break;
        got += n;
      }
      for (let b = 0; b < got; b += blockSize) {
        const block = buf.subarray(b, Math.min(got, b + blockSize));
        if (zero.subarray(0, block.length).equals(block)) continue;
        hash(block);
        hashed += block.length;
      }
    }
  } finally {
    closeSync(fd);
  }
  return hashed;
}

function hashOnly({ bytes, blockSize }) {
  const block = Buffer.allocUnsafeSlow(blockSize).fill(0x5a);
  for (let i = 0; i < block.length; i += 7) block[i] = i & 0xff;
  for (let done = 0; done < bytes; done += blockSize) hash(block);
  return bytes;
}

parentPort.on('message', (job) => {
  const cpu0 = threadCpuS();
  const t0 = performance.now();
  const hashed = job.type === 'read-and-hash' ? readAndHash(job) : hashOnly(job);
  parentPort.postMessage({ hashed, wallS: (performance.now() - t0) / 1000, cpuS: threadCpuS() - cpu0 });
});
