import type { Operation, OperationStatus } from '../domain/operation';

export interface IdempotencyClaim {
  key: string;
  /** Hash of the validated request body (key order and whitespace ignored). */
  requestHash: string;
  /** Epoch seconds after which the key may be reused (≥ 24 h). */
  expiresAt: number;
}

export type CreateResult =
  | { kind: 'created' }
  | { kind: 'key-exists'; operationId: string; requestHash: string }
  // A job's operation (jobId set) whose card is no longer QUEUED or whose job is no longer RUNNING: nothing written.
  | { kind: 'card-not-startable' };

export interface OperationStore {
  /**
   * Writes the operation and, atomically, claims the idempotency key; an existing live key wins. An operation of a
   * bulk job (jobId set) also starts its job card in the same transaction: the card QUEUED → IN_FLIGHT with the
   * operation's id and the job's started and inFlight counts + 1, only while the card is QUEUED and the job RUNNING.
   */
  create(operation: Operation, idempotency?: IdempotencyClaim): Promise<CreateResult>;
  /** The next value of the card's strictly increasing operation sequence (one counter per card, no shared item). */
  nextSequence(issuerCardRefId: string): Promise<number>;
  /** The live claim on an idempotency key, if any (an expired one is null). */
  findIdempotencyKey(key: string): Promise<{ operationId: string; requestHash: string } | null>;
  /** Operations not yet final (index, eventually consistent), optionally of one card or created before an instant. */
  listOpen(filter: { issuerCardRefId?: string; createdBefore?: string }): Promise<Operation[]>;
  /** Strongly consistent. */
  get(operationId: string): Promise<Operation | null>;
  /**
   * Replaces the operation if it is still at the version of `previous`, the one the change was decided on (written
   * as its version + 1). When that save makes a job's operation final (from `previous.status`), its job card settles
   * in the same transaction (card → the final status, job inFlight − 1, <status> + 1).
   */
  save(operation: Operation, previous: { version: number; status: OperationStatus }): Promise<'SAVED' | 'CONFLICT'>;
}
