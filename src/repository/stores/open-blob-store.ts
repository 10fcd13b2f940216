import { fileURLToPath } from 'node:url';
import { isOpenemError, OpenemError } from '../../errors.js';
import type { BlobStore } from '../blob-store.js';
import { LocalBlobStore } from './local/local-blob-store.js';
import { S3BlobStore } from './s3/s3-blob-store.js';

/**
 * The blob stores openem can open, by URL scheme: the one place that picks a store, so a new backend
 * is one more entry here.
 */
const STORES: Record<string, (url: URL) => BlobStore> = {
  'file:': (url) => new LocalBlobStore(fileURLToPath(url)),
  // s3://bucket/prefix; endpoint, region and path style from OPENEM_S3_*, credentials from the SDK's chain.
  's3:': (url) => S3BlobStore.fromUrl(url),
};

/** `scheme:` at the start of a location makes it a URL; anything else is a local path. */
const URL_SCHEME = /^([a-z][a-z0-9+.-]*):/i;

/**
 * Opens the blob store at `location`: a URL (`file:///srv/openem/repository`) or a plain local path
 * (`/srv/openem/repository`, `./repository`). A scheme openem has no store for is NOT_IMPLEMENTED, naming the
 * schemes it has.
 */
export function openBlobStore(location: string): BlobStore {
  const scheme = URL_SCHEME.exec(location)?.[1];
  if (scheme === undefined) return new LocalBlobStore(location);
  const open = STORES[`${scheme.toLowerCase()}:`];
  if (!open) {
    const known = Object.keys(STORES).map((s) => `${s}//`).join(', ');
    throw new OpenemError('NOT_IMPLEMENTED', `repository URL scheme ${scheme}: is not supported (supported: ${known} URLs and local paths)`);
  }
  let url: URL;
  try {
    url = new URL(location);
  } catch (e) {
    throw new OpenemError('BAD_REQUEST', `invalid repository URL ${redacted(location)}`, { cause: e });
  }
  try {
    return open(url);
  } catch (e) {
    if (isOpenemError(e)) throw e;
    // fileURLToPath refuses a host (file://server/share) and encoded slashes.
    throw new OpenemError('BAD_REQUEST', `invalid repository URL ${redacted(location)}: ${(e as Error).message}`, { cause: e });
  }
}

/** A URL as it may appear in a message: without user and password. */
function redacted(location: string): string {
  return location.replace(/\/\/[^@/]*@/, '//***@');
}
