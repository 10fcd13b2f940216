/**
 * Errors are values with stable codes (STYLE.md). Everything below the API throws these;
 * `api/errors.ts` is the one place that maps a code to an HTTP status and an Enterprise Manager Error body.
 */
export type ErrorCode =
  | 'BAD_REQUEST'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'CONFLICT'
  | 'PAYLOAD_TOO_LARGE'
  | 'URI_TOO_LONG'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'TOO_MANY_REQUESTS'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'NOT_IMPLEMENTED'
  | 'CORRUPT'
  | 'NO_SPACE'
  /** The server's configuration (flags, environment, config file) is not valid; never an answer to a request. */
  | 'BAD_CONFIG';

export class OpenemError extends Error {
  readonly code: ErrorCode;
  /** With TOO_MANY_REQUESTS or UNAVAILABLE: when to try again (the API sends it as `Retry-After`). */
  readonly retryAfterSeconds?: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    this.code = code;
    this.name = 'OpenemError';
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const badRequest = (message: string) => new OpenemError('BAD_REQUEST', message);
export const notFound = (message: string) => new OpenemError('NOT_FOUND', message);
export const forbidden = (message: string) => new OpenemError('FORBIDDEN', message);
export const conflict = (message: string) => new OpenemError('CONFLICT', message);
export const corrupt = (message: string) => new OpenemError('CORRUPT', message);

export function isOpenemError(e: unknown): e is OpenemError {
  return e instanceof OpenemError;
}
