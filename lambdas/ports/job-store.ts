import type { Job, JobCard, JobCardStatus } from '../domain/job';
import type { IdempotencyClaim } from './operation-store';
import type { Page, PageRequest } from './token-store';

export type CreateJobResult = { kind: 'created' } | { kind: 'key-exists'; jobId: string; requestHash: string };

export type ClaimResult =
  | { kind: 'claimed'; job: Job; previousTickAt: string | null; settledSinceLastTick: number }
  // The job is not at that generation (or not ticking): the message is a duplicate or a redelivery.
  | { kind: 'lost'; job: Job | null };

/** The bulk jobs (DESIGN §9): the job items, their cards, and the runner's tick claims. */
export interface JobStore {
  /** Writes the job (no cards yet) and, atomically, claims the idempotency key; an existing live key wins. */
  create(job: Job, idempotency?: IdempotencyClaim): Promise<CreateJobResult>;
  /** The live claim on a job idempotency key, if any (an expired one is null). Keys of jobs and operations never collide. */
  findIdempotencyKey(key: string): Promise<{ jobId: string; requestHash: string } | null>;
  /** Strongly consistent. */
  get(jobId: string): Promise<Job | null>;
  /**
   * Adds the cards not yet in the job while it is PENDING, its `cards` count moved in the same transactions; a card
   * already there is skipped (counted once). NOT_PENDING when the job stopped being PENDING (cards added before stay).
   */
  addCards(jobId: string, issuerCardRefIds: readonly string[], now: Date): Promise<{ kind: 'added'; added: number } | { kind: 'not-pending' }>;
  /** PENDING → RUNNING (startedAt); false when it was not PENDING. */
  start(jobId: string, now: Date): Promise<boolean>;
  /** PENDING or RUNNING → CANCELLED (a PENDING one is closed at once: nothing in flight); false otherwise. */
  cancel(jobId: string, now: Date): Promise<boolean>;
  /** The job's cards in issuerCardRefId order, optionally only those with a status (an index, eventually consistent). */
  listCards(jobId: string, filter: { status?: JobCardStatus | undefined }, page: PageRequest): Promise<Page<JobCard>>;
  /** Claims the tick of `generation` (the job moves to generation + 1, lastTickAt = now) while the job is ticking. */
  claimTick(jobId: string, generation: number, now: Date): Promise<ClaimResult>;
  /** Up to `limit` cards QUEUED now: the index's candidates, each checked on the card itself (the index lags). */
  queuedCards(jobId: string, limit: number): Promise<string[]>;
  /** The operations of the job's IN_FLIGHT cards. */
  inFlightOperations(jobId: string): Promise<string[]>;
  /**
   * Closes a job: a RUNNING one whose every card settled becomes COMPLETED, a CANCELLED one with nothing in flight
   * gets its completedAt. False when the job changed meanwhile (the chain then goes on).
   */
  close(job: Job, now: Date): Promise<boolean>;
  /** Remembers when the runner last looked for operations whose first attempt was never queued. */
  markRecovery(jobId: string, now: Date): Promise<void>;
}
