/**
 * Errors the use cases raise. They name what went wrong in the domain; lambdas/http/errors.ts is the one place
 * that turns them into status codes.
 */
export type DomainErrorKind = 'NOT_FOUND' | 'TOKEN_DELETED' | 'JOB_NOT_PENDING' | 'IDEMPOTENCY_KEY_REUSED' | 'UPSTREAM_ERROR' | 'UNAVAILABLE';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string): DomainError => new DomainError('NOT_FOUND', `${what} not found`);
