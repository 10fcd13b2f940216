import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { badRequest, notFound, OpenemError } from '../../../errors.js';
import type { BlobStat, BlobStore, ByteRange } from '../../blob-store.js';

/** How to reach the S3 service; credentials come from the SDK's standard chain (AWS_ACCESS_KEY_ID, profiles, …). */
export interface S3StoreOptions {
  /** `http(s)://host:port` of an S3-compatible service; default AWS for the region. */
  endpoint?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** `bucket` in the path instead of the host name (most S3-compatible servers want this). */
  forcePathStyle?: boolean;
  /** Explicit credentials instead of the SDK's chain (tests). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Attempts per request, retried with backoff on throttling, 5xx and network errors (default 6). */
  maxAttempts?: number;
  /** Objects at least this large are uploaded with multipart (default 16 MiB), in parts of `partSize` (default 8 MiB). */
  multipartThreshold?: number;
  partSize?: number;
  /** Parts of one multipart upload sent at once (default 4). */
  uploadConcurrency?: number;
}

/** The S3 settings of `OPENEM_S3_ENDPOINT`, `OPENEM_S3_REGION` and `OPENEM_S3_FORCE_PATH_STYLE`. */
export function s3OptionsFromEnv(env: NodeJS.ProcessEnv = process.env): S3StoreOptions {
  const options: S3StoreOptions = {};
  if (env.OPENEM_S3_ENDPOINT) options.endpoint = env.OPENEM_S3_ENDPOINT;
  if (env.OPENEM_S3_REGION) options.region = env.OPENEM_S3_REGION;
  const pathStyle = env.OPENEM_S3_FORCE_PATH_STYLE;
  if (pathStyle !== undefined && pathStyle !== '') {
    if (!['true', '1', 'false', '0'].includes(pathStyle)) throw new OpenemError('BAD_CONFIG', `OPENEM_S3_FORCE_PATH_STYLE: "${pathStyle}" is not true or false`);
    options.forcePathStyle = pathStyle === 'true' || pathStyle === '1';
  }
  return options;
}

/** Splits `s3://bucket/some/prefix` into the bucket and a key prefix (`some/prefix/`, or `''`). */
export function parseS3Url(url: URL): { bucket: string; prefix: string } {
  const bucket = url.hostname;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw badRequest(`"${bucket}" is not an S3 bucket name`);
  if (url.username || url.password) throw badRequest('an s3:// URL carries no credentials (use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)');
  if (url.search || url.hash || url.port) throw badRequest('an s3:// URL is s3://bucket/prefix, without port, query or fragment');
  const parts = decodeURIComponent(url.pathname).split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) throw badRequest('an s3:// prefix has no . or .. parts');
  return { bucket, prefix: parts.length ? `${parts.join('/')}/` : '' };
}

const MiB = 1024 * 1024;

/**
 * A blob store in an S3 bucket under a key prefix. Every object is written once per key as a whole (PutObject, or a
 * multipart upload that becomes visible only when completed), so readers see the old object or the new one. Nothing
 * here relies on conditional writes or on a listing seeing a write at once: which manifests are current and what
 * gc may delete is decided under the state store's leases (blob-store.ts). Reads are ranged GETs; the block reader
 * verifies every block by its hash, so a truncated or damaged object is caught there.
 */
export class S3BlobStore implements BlobStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly uploadConcurrency: number;

  constructor(
    readonly bucket: string,
    readonly prefix: string,
    options: S3StoreOptions = {},
  ) {
    this.location = `s3://${bucket}/${prefix}`;
    this.multipartThreshold = options.multipartThreshold ?? 16 * MiB;
    this.partSize = Math.max(5 * MiB, options.partSize ?? 8 * MiB);
    this.uploadConcurrency = options.uploadConcurrency ?? 4;
    this.client = new S3Client({
      region: options.region ?? 'us-east-1',
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // The standard strategy: exponential backoff with jitter on throttling (SlowDown, 429), 5xx and network errors.
      maxAttempts: options.maxAttempts ?? 6,
      retryMode: 'standard',
      // Only when the operation needs one: S3-compatible servers differ on aws-chunked checksums; blocks carry their own hash.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  static fromUrl(url: URL, options: S3StoreOptions = s3OptionsFromEnv()): S3BlobStore {
    const { bucket, prefix } = parseS3Url(url);
    return new S3BlobStore(bucket, prefix, options);
  }

  private keyOf(key: string): string {
    if (key === '' || key.startsWith('/') || key.split('/').some((p) => p === '..' || p === '.' || p === '')) {
      throw badRequest(`invalid blob key "${key}"`);
    }
    return this.prefix + key;
  }

  private failure(e: unknown, what: string): unknown {
    if (e instanceof OpenemError) return e;
    const name = (e as { name?: string }).name ?? '';
    const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
    if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied', 'CredentialsProviderError'].includes(name) || status === 403) {
      return new OpenemError('FORBIDDEN', `${this.location}: ${what} refused by the S3 service (${name || status}); check the credentials`, { cause: e });
    }
    if (name === 'NoSuchBucket') return new OpenemError('NOT_FOUND', `${this.location}: the bucket ${this.bucket} does not exist`, { cause: e });
    if (status !== undefined && status >= 500 || ['SlowDown', 'ServiceUnavailable', 'Throttling', 'ThrottlingException', 'RequestTimeout'].includes(name)) {
      return new OpenemError('UNAVAILABLE', `${this.location}: ${what} failed after retries (${name || status})`, { cause: e });
    }
    if (status === undefined && /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|socket/i.test(`${name} ${(e as Error).message}`)) {
      return new OpenemError('UNAVAILABLE', `${this.location}: ${what}: the S3 service is unreachable (${(e as Error).message})`, { cause: e });
    }
    return e;
  }

  async put(key: string, data: Buffer | readonly Buffer[]): Promise<void> {
    const Key = this.keyOf(key);
    // Copied: callers may reuse their buffers once put resolves, and a retried request resends the body.
    const body = Buffer.concat(Buffer.isBuffer(data) ? [data] : [...data]);
    try {
      if (body.length < this.multipartThreshold) {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: body, ContentLength: body.length }));
        return;
      }
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key, Body: body },
        partSize: this.partSize,
        queueSize: this.uploadConcurrency,
        // A failed upload is aborted, so its parts do not linger (a killed process leaves them to a bucket lifecycle rule).
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (e) {
      throw this.failure(e, `put ${key}`);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    const Key = this.keyOf(key);
    if (range && range.length <= 0) {
      if (!(await this.exists(key))) throw notFound(`blob ${key} not found in ${this.location}`);
      return Buffer.alloc(0);
    }
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key,
          ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
        }),
      );
      let bytes = await out.Body!.transformToByteArray();
      if (out.ContentLength !== undefined && bytes.length !== out.ContentLength) {
        throw new OpenemError('CORRUPT', `${this.location}: ${key}: the S3 service sent ${bytes.length} of ${out.ContentLength} bytes`);
      }
      if (range) {
        const start = /^bytes (\d+)-/.exec(out.ContentRange ?? '')?.[1];
        // A server may ignore Range and answer the whole object (HTTP allows it), or send more than asked (s3rver
        // answers `bytes=0-0` with everything from 0): keep exactly the range.
        if (start === undefined) bytes = bytes.subarray(range.offset, range.offset + range.length);
        else if (Number(start) !== range.offset) {
          throw new OpenemError('CORRUPT', `${this.location}: ${key}: asked for bytes from ${range.offset}, the S3 service sent them from ${start}`);
        } else if (bytes.length > range.length) bytes = bytes.subarray(0, range.length);
      }
      // A fresh ArrayBuffer per read, so callers may transfer it to a worker without copying.
      const buf = Buffer.from(new ArrayBuffer(bytes.length));
      buf.set(bytes);
      return buf;
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') throw notFound(`blob ${key} not found in ${this.location}`);
      // A range starting at or past the end: S3 answers 416; the local store answers the (empty) bytes up to the end.
      if (name === 'InvalidRange' || (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 416)) {
        if (!(await this.exists(key))) throw notFound(`blob ${key} not found in ${this.location}`);
        return Buffer.alloc(0);
      }
      throw this.failure(e, `get ${key}`);
    }
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    const Key = this.keyOf(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return { size: out.ContentLength ?? 0 };
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NotFound' || name === 'NoSuchKey' || (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 404 && name !== 'NoSuchBucket')) return undefined;
      throw this.failure(e, `stat ${key}`);
    }
  }

  async exists(key: string): Promise<boolean> {
    return (await this.stat(key)) !== undefined;
  }

  async list(prefix: string): Promise<string[]> {
    if (prefix !== '' && (prefix.startsWith('/') || prefix.split('/').slice(0, -1).some((p) => p === '..' || p === '.' || p === ''))) {
      throw badRequest(`invalid blob prefix "${prefix}"`);
    }
    const keys: string[] = [];
    let token: string | undefined;
    try {
      do {
        const out = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ...(token ? { ContinuationToken: token } : {}) }),
        );
        for (const o of out.Contents ?? []) if (o.Key !== undefined && o.Key.startsWith(this.prefix)) keys.push(o.Key.slice(this.prefix.length));
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
    } catch (e) {
      throw this.failure(e, `list ${prefix}`);
    }
    return keys;
  }

  async delete(key: string): Promise<void> {
    const Key = this.keyOf(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name === 'NoSuchKey' || name === 'NotFound') return;
      throw this.failure(e, `delete ${key}`);
    }
  }

  /** Closes the HTTP connections. */
  destroy(): void {
    this.client.destroy();
  }
}
