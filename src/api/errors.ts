import type { ErrorCode } from '../errors.js';
import { el, type WireElement } from './wire/wire-node.js';

/**
 * The error catalogue: code -> HTTP status -> Enterprise Manager's Error body
 * (`<Error Message StatusCode Status/>`, em-api.md §2; Status names as .NET's HttpStatusCode writes them).
 */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUESTS: 429,
  INTERNAL: 500,
  NOT_IMPLEMENTED: 501,
  UNAVAILABLE: 503,
  CORRUPT: 500,
  NO_SPACE: 507,
  BAD_CONFIG: 500,
};

const STATUS_NAME: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  414: 'RequestUriTooLong',
  415: 'UnsupportedMediaType',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  501: 'NotImplemented',
  503: 'ServiceUnavailable',
  507: 'InsufficientStorage',
};

export function statusName(status: number): string {
  return STATUS_NAME[status] ?? 'Error';
}

/**
 * The XML Error (XSD ErrorType): attributes `Message`, `StatusCode`, `Status` (all required by the XSD, so
 * `Status` stays in XML), then the optional `StackTrace` (debug only).
 */
export function errorBody(status: number, message: string, stackTrace?: string): WireElement {
  return el(
    'Error',
    [
      ['Message', message],
      ['StatusCode', status],
      ['Status', statusName(status)],
    ],
    stackTrace ? [{ kind: 'text', name: 'StackTrace', value: stackTrace }] : [],
  );
}

/**
 * The JSON Error exactly as Enterprise Manager sends it: every property present, `Status` null, in its
 * (alphabetical) order — `{"FirstChanceExceptionMessage":null,"Message":…,"StackTrace":null,"Status":null,"StatusCode":404}`
 * (issue #10 item 6).
 */
export function errorJson(status: number, message: string, stackTrace?: string): string {
  return JSON.stringify({ FirstChanceExceptionMessage: null, Message: message, StackTrace: stackTrace ?? null, Status: null, StatusCode: status });
}
