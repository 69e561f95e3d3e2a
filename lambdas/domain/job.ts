/**
 * A bulk LCM job (DESIGN §9): one action on many cards, each card run as one CARD-scope operation of §3, started
 * at the pace D1 allows and counted as its operation settles.
 *
 * Job status: PENDING (cards may be added) → RUNNING (the runner starts cards) → COMPLETED (every card settled);
 * PENDING or RUNNING → CANCELLED (no card starts any more; those in flight finish and are still counted).
 * Card status: QUEUED → IN_FLIGHT (its operation exists) → SUCCEEDED | PARTIALLY_FAILED | FAILED (its operation's
 * final status).
 *
 * Counts, at every instant: cards = not started + started, started = SUCCEEDED + PARTIALLY_FAILED + FAILED + inFlight.
 * They hold because each change of a card moves the job's counts in the same transaction (a start: started + 1,
 * inFlight + 1; a settlement: inFlight − 1, <status> + 1).
 */
import { isFinal, type LcmAction, type Operation, type OperationStatus } from './operation';

export const JOB_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'CANCELLED'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const SETTLED_CARD_STATUSES = ['SUCCEEDED', 'PARTIALLY_FAILED', 'FAILED'] as const;
export type SettledCardStatus = (typeof SETTLED_CARD_STATUSES)[number];
export const JOB_CARD_STATUSES = ['QUEUED', 'IN_FLIGHT', ...SETTLED_CARD_STATUSES] as const;
export type JobCardStatus = (typeof JOB_CARD_STATUSES)[number];

/** Cards one request may name (create or add). */
export const MAX_CARDS_PER_REQUEST = 1000;

export interface JobCounts {
  cards: number;
  started: number;
  SUCCEEDED: number;
  PARTIALLY_FAILED: number;
  FAILED: number;
  inFlight: number;
}

export interface Job {
  jobId: string;
  action: LcmAction;
  reason: string | null;
  status: JobStatus;
  counts: JobCounts;
  requestedBy: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  updatedAt: string;
  /** The tick chain's position: a tick message for generation n is claimed by moving it to n + 1. */
  generation: number;
  /** When the last tick was claimed: the next tick's budget is the time since. */
  lastTickAt: string | null;
  /** When the runner last looked for started operations whose first attempt was never queued. */
  lastRecoveryAt: string | null;
}

export interface JobCard {
  jobId: string;
  issuerCardRefId: string;
  status: JobCardStatus;
  /** Null until the card is started. */
  operationId: string | null;
}

export const EMPTY_COUNTS: JobCounts = { cards: 0, started: 0, SUCCEEDED: 0, PARTIALLY_FAILED: 0, FAILED: 0, inFlight: 0 };

export function newJob(input: { jobId: string; action: LcmAction; reason?: string | undefined; requestedBy?: string | null; now: Date }): Job {
  const at = input.now.toISOString();
  return {
    jobId: input.jobId,
    action: input.action,
    reason: input.reason ?? null,
    status: 'PENDING',
    counts: EMPTY_COUNTS,
    requestedBy: input.requestedBy ?? null,
    createdAt: at,
    startedAt: null,
    completedAt: null,
    updatedAt: at,
    generation: 0,
    lastTickAt: null,
    lastRecoveryAt: null,
  };
}

/** The public view (DESIGN §9 Job). */
export function jobView(job: Job) {
  return {
    jobId: job.jobId,
    action: job.action,
    reason: job.reason,
    status: job.status,
    counts: { ...job.counts },
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    completedAt: job.completedAt,
    updatedAt: job.updatedAt,
  };
}

export const notStarted = (counts: JobCounts): number => counts.cards - counts.started;

/** The invariant of the counts (DESIGN §9 "the counts add up"). */
export function countsAddUp(c: JobCounts): boolean {
  const values = Object.values(c);
  return values.every((v) => Number.isInteger(v) && v >= 0) && c.started <= c.cards && c.started === c.SUCCEEDED + c.PARTIALLY_FAILED + c.FAILED + c.inFlight;
}

/** What starting a card does to the counts (the store applies the same change atomically with the card's). */
export const countsAfterStart = (c: JobCounts): JobCounts => ({ ...c, started: c.started + 1, inFlight: c.inFlight + 1 });

/** What settling an in-flight card does to the counts. */
export const countsAfterSettle = (c: JobCounts, status: SettledCardStatus): JobCounts => ({ ...c, inFlight: c.inFlight - 1, [status]: c[status] + 1 });

/** `POST …/start`: only a PENDING job starts; a RUNNING one is already started (idempotent, 202 again). */
export function startDecision(job: Job): 'START' | 'ALREADY_RUNNING' | 'NOT_PENDING' {
  if (job.status === 'PENDING') return 'START';
  return job.status === 'RUNNING' ? 'ALREADY_RUNNING' : 'NOT_PENDING';
}

/** `POST …/cancel`: PENDING or RUNNING jobs cancel; cancelling again is a no-op; a COMPLETED job cannot be. */
export function cancelDecision(job: Job): 'CANCEL' | 'ALREADY_CANCELLED' | 'COMPLETED' {
  if (job.status === 'CANCELLED') return 'ALREADY_CANCELLED';
  return job.status === 'COMPLETED' ? 'COMPLETED' : 'CANCEL';
}

/** A job whose tick chain still has work: RUNNING, or CANCELLED with operations still in flight (not yet closed). */
export const ticking = (job: Job): boolean => (job.status === 'RUNNING' || job.status === 'CANCELLED') && job.completedAt === null;

/** At most this many seconds of D1's allowance in one tick, so the bulk queue never holds more. */
export const MAX_TICK_SECONDS = 2;

/**
 * Cards one tick may start: D1's allowance for the time since the previous tick, capped at MAX_TICK_SECONDS worth
 * (a late tick does not burst) and at least one (a job always moves).
 */
export function tickBudget(maxTps: number, previousTickAt: string | null, now: Date): number {
  const elapsedMs = previousTickAt === null ? 1000 : Math.max(0, now.getTime() - Date.parse(previousTickAt));
  const seconds = Math.min(elapsedMs / 1000, MAX_TICK_SECONDS);
  return Math.max(1, Math.floor(maxTps * seconds));
}

/**
 * After a tick, on the job as it now is: COMPLETE a RUNNING job whose every card settled, CLOSE a CANCELLED one
 * with nothing left in flight (its completedAt), else CONTINUE the chain while it has work.
 */
export function afterTick(job: Job): 'COMPLETE' | 'CLOSE' | 'CONTINUE' | 'END' {
  if (!ticking(job)) return 'END';
  if (job.status === 'RUNNING') return notStarted(job.counts) === 0 && job.counts.inFlight === 0 ? 'COMPLETE' : 'CONTINUE';
  return job.counts.inFlight === 0 ? 'CLOSE' : 'CONTINUE';
}

export interface CardSettlement {
  jobId: string;
  issuerCardRefId: string;
  operationId: string;
  status: SettledCardStatus;
}

/**
 * The job card an operation's save settles: only when a job's operation goes from non-final to final, so later
 * saves of a final operation (a late D1 answer, another token's callback) never count it twice.
 */
export function cardSettlement(previousStatus: OperationStatus, operation: Operation): CardSettlement | null {
  if (operation.jobId === null || isFinal(previousStatus) || !isFinal(operation.status)) return null;
  return {
    jobId: operation.jobId,
    issuerCardRefId: operation.issuerCardRefId,
    operationId: operation.operationId,
    status: operation.status as SettledCardStatus,
  };
}

/** A tick of the runner's chain (the lcm-jobs queue message). */
export interface JobTick {
  jobId: string;
  generation: number;
}
