import type { PaceLane } from '../domain/d1-pace';

/** Go now (the slot's time has come), or put the attempt back on its queue for `delaySeconds`: no slot is near. */
export type PaceGrant = { kind: 'go' } | { kind: 'later'; delaySeconds: number };

/**
 * The shared pace of updateCardState calls (DESIGN §9): every consumer and instance draws from one budget of
 * D1_MAX_TPS calls per second, interactive operations first. DynamoDB counters in AWS and locally
 * (adapters/dynamodb-d1-pacer.ts).
 */
export interface D1Pacer {
  /** Resolves when this call may go (having waited for its slot), or with `later` when the wait would be long. */
  acquire(lane: PaceLane): Promise<PaceGrant>;
  /** D1 answered 429 or 503: slow every consumer down; the pace recovers by itself. */
  throttled(): Promise<void>;
}
