import type { Operation } from '../domain/operation';

export interface IdempotencyClaim {
  key: string;
  /** Hash of the validated request body (key order and whitespace ignored). */
  requestHash: string;
  /** Epoch seconds after which the key may be reused (≥ 24 h). */
  expiresAt: number;
}

export type CreateResult = { kind: 'created' } | { kind: 'key-exists'; operationId: string; requestHash: string };

export interface OperationStore {
  /** Writes the operation and, atomically, claims the idempotency key; an existing live key wins. */
  create(operation: Operation, idempotency?: IdempotencyClaim): Promise<CreateResult>;
  /** The next value of the card's strictly increasing operation sequence (one counter per card, no shared item). */
  nextSequence(issuerCardRefId: string): Promise<number>;
  /** The live claim on an idempotency key, if any (an expired one is null). */
  findIdempotencyKey(key: string): Promise<{ operationId: string; requestHash: string } | null>;
  /** Operations not yet final (index, eventually consistent), optionally of one card or created before an instant. */
  listOpen(filter: { issuerCardRefId?: string; createdBefore?: string }): Promise<Operation[]>;
  /** Strongly consistent. */
  get(operationId: string): Promise<Operation | null>;
  /** Replaces the operation if its version is still `expectedVersion` (written as expectedVersion + 1). */
  save(operation: Operation, expectedVersion: number): Promise<'SAVED' | 'CONFLICT'>;
}
