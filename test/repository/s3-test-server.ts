// An S3-compatible server for tests: s3rver on a loopback ephemeral port, its objects in a temp folder, one bucket.
// Known gaps (issue #14): it ignores If-None-Match, and with the SDK's default checksums it would store the
// aws-chunked framing (the store asks for checksums only when required, so it does not).
import { createRequire } from 'node:module';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tempDir } from './repository-fixtures.js';

const require = createRequire(import.meta.url);

export interface S3TestServer {
  /** `http://127.0.0.1:port` */
  endpoint: string;
  bucket: string;
  /** The environment a store (or an openem process) needs to reach it. */
  env: Record<string, string>;
  /** The requests it has received so far, in order: method, path (`/<bucket>/<key>`, query kept) and Range header. */
  requests: { method: string; path: string; range?: string }[];
  stop(): Promise<void>;
}

/** Ranged GETs of pack objects (`…/packs/xx/<id>.pack`) among `requests`: the reads a restore makes of block data. */
export function packRangeGets(requests: S3TestServer['requests']): number {
  return requests.filter((r) => r.method === 'GET' && r.range !== undefined && /\/packs\/[0-9a-f]{2}\/[0-9a-f]+\.pack$/.test(r.path.split('?')[0])).length;
}

/** s3rver's fixed credentials: it checks signatures against them. */
export const S3RVER_KEY = 'S3RVER';

export async function startS3Server(bucket = 'openem-test'): Promise<S3TestServer> {
  const dir = await tempDir('openem-s3rver-');
  const S3rver = require('s3rver');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir.path, configureBuckets: [{ name: bucket }] });
  let address: AddressInfo;
  try {
    address = (await server.run()) as AddressInfo;
  } catch (e) {
    await dir.cleanup();
    throw e;
  }
  const requests: S3TestServer['requests'] = [];
  (server.httpServer as Server).prependListener('request', (req: IncomingMessage) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', ...(req.headers.range ? { range: req.headers.range } : {}) });
  });
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    requests,
    endpoint,
    bucket,
    env: {
      OPENEM_S3_ENDPOINT: endpoint,
      OPENEM_S3_REGION: 'us-east-1',
      OPENEM_S3_FORCE_PATH_STYLE: 'true',
      AWS_ACCESS_KEY_ID: S3RVER_KEY,
      AWS_SECRET_ACCESS_KEY: S3RVER_KEY,
    },
    async stop() {
      await server.close();
      await dir.cleanup();
    },
  };
}
