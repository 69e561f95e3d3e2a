import type { ErrorBody } from './error-body';
import { DomainError, type DomainErrorKind } from '../domain/errors';

/** The `code` values of the DESIGN §3 error body: the one list the type, the schema and the OpenAPI document use. */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'TOKEN_DELETED',
  'JOB_NOT_PENDING',
  'UNSUPPORTED_MEDIA_TYPE',
  'PAYLOAD_TOO_LARGE',
  'IDEMPOTENCY_KEY_REUSED',
  'METHOD_NOT_ALLOWED',
  'INTERNAL',
  'UPSTREAM_ERROR',
  'UNAVAILABLE',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldError {
  /** Dotted body path, `headers.<name>`, `query.<name>`, or "" for the body as a whole. */
  path: string;
  message: string;
}

export type { ErrorBody } from './error-body';

/** An error that already knows its HTTP answer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly fields?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.fields ? { fields: this.fields } : {}) } };
  }
}

export const validationFailed = (fields: FieldError[], message = 'request is invalid'): ApiError => new ApiError(400, 'VALIDATION_FAILED', message, fields);
export const malformedBody = (): ApiError => validationFailed([{ path: '', message: 'body must be a JSON object' }], 'body is not a JSON object');
export const unauthorized = (): ApiError => new ApiError(401, 'UNAUTHORIZED', 'missing or invalid credentials');
export const forbidden = (message: string): ApiError => new ApiError(403, 'FORBIDDEN', message);
export const routeNotFound = (): ApiError => new ApiError(404, 'NOT_FOUND', 'no such route');
export const methodNotAllowed = (allow: readonly string[]): ApiError =>
  new ApiError(405, 'METHOD_NOT_ALLOWED', 'method not allowed', undefined, { allow: allow.join(', ') });
export const payloadTooLarge = (limit: number): ApiError => new ApiError(413, 'PAYLOAD_TOO_LARGE', `body exceeds ${limit} bytes`);
export const unsupportedMediaType = (): ApiError => new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'body must be application/json');
export const internal = (): ApiError => new ApiError(500, 'INTERNAL', 'internal error');

const DOMAIN_STATUS: Record<DomainErrorKind, [number, ErrorCode]> = {
  NOT_FOUND: [404, 'NOT_FOUND'],
  TOKEN_DELETED: [409, 'TOKEN_DELETED'],
  // A bulk job's change its status no longer allows (add cards or start once it left PENDING, cancel a COMPLETED one).
  JOB_NOT_PENDING: [409, 'JOB_NOT_PENDING'],
  IDEMPOTENCY_KEY_REUSED: [422, 'IDEMPOTENCY_KEY_REUSED'],
  UPSTREAM_ERROR: [502, 'UPSTREAM_ERROR'],
  UNAVAILABLE: [503, 'UNAVAILABLE'],
};

/** The one mapping from anything a handler throws to an HTTP error; unknown errors are 500 INTERNAL. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof DomainError) {
    const [status, code] = DOMAIN_STATUS[err.kind];
    return new ApiError(status, code, err.message);
  }
  return internal();
}
