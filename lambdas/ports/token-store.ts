import type { Operation, OperationStatus } from '../domain/operation';
import type { Token, TokenDevice } from '../domain/token';
import type { HistoryEvent } from '../domain/virtual-card-change';

export interface Page<T> {
  items: T[];
  /** Opaque; null on the last page. */
  nextToken: string | null;
}

export interface PageRequest {
  limit: number;
  nextToken?: string | undefined;
}

/** One recorded callback: the dedupe record and the history event are the same item. */
export interface ChangeRecord {
  dedupeKey: string;
  virtualCardId: string;
  /** The version read before deciding; null when the token did not exist. The write fails if it moved. */
  expectedVersion: number | null;
  /** The token to store (its version is written as expectedVersion + 1); null = still unknown, nothing to store. */
  token: Token | null;
  event: HistoryEvent;
  /**
   * The operation the callback belongs to, when it records a token outcome; written on its version too. Its status
   * before the callback says whether this write makes it final (a job's card then settles in the same transaction).
   */
  operation?: { value: Operation; expectedVersion: number; previousStatus: OperationStatus } | undefined;
}

export type RecordResult = 'RECORDED' | 'DUPLICATE' | 'CONFLICT';

/** A device refresh from reconciliation: the token's device only, on its version (which it bumps). */
export interface DeviceUpdate {
  virtualCardId: string;
  expectedVersion: number;
  device: TokenDevice;
}

/** Thrown for a `nextToken` we did not issue (answered as a 400 on `query.nextToken`). */
export class InvalidPageToken extends Error {
  constructor() {
    super('nextToken is not valid');
    this.name = 'InvalidPageToken';
  }
}

export interface TokenStore {
  /** Strongly consistent: the decision that follows is guarded by the version condition anyway. */
  getToken(virtualCardId: string): Promise<Token | null>;
  /**
   * What deciding one callback needs, read together and strongly consistent: the token, and the operation of ours
   * its x-correlation-id names (null when it names none: an external change). `operationId` null: only the token.
   */
  getTokenAndOperation(virtualCardId: string, operationId: string | null): Promise<{ token: Token | null; operation: Operation | null }>;
  /** Which tokens a card has comes from an index (eventually consistent); each token is read strongly consistent. */
  listCardTokens(issuerCardRefId: string, page: PageRequest): Promise<Page<Token>>;
  /** Oldest first. */
  history(virtualCardId: string, page: PageRequest): Promise<Page<HistoryEvent>>;
  /**
   * Atomically: records the event under its dedupe key (fails as DUPLICATE if it exists) and writes the token
   * if its version is still `expectedVersion` (else CONFLICT: re-read and decide again). One write request.
   */
  recordChange(record: ChangeRecord): Promise<RecordResult>;
  /**
   * Sets the token's device if its version is still `expectedVersion` (and bumps it, so a decision taken on the
   * older read fails and is retaken), else CONFLICT. No history event: neither state nor last change moves.
   */
  recordDevice(update: DeviceUpdate): Promise<'RECORDED' | 'CONFLICT'>;
}
