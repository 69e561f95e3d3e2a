import { afterTick, notStarted, tickBudget, type Job, type JobTick } from '../domain/job';
import type { JobStore } from '../ports/job-store';
import type { JobTickQueue } from '../ports/queues';
import { startJobCard, type RequestDeps } from './request-operation';

export interface TickDeps {
  jobs: JobStore;
  ticks: JobTickQueue;
  /** The operation request path; its queue is the bulk lane toward D1. */
  request: RequestDeps;
  /** D1's allowance (D1_MAX_TPS): a tick starts about this many cards per second since the previous one. */
  maxTps: number;
  now: () => Date;
  /** Cards started in parallel within one tick (each start is a few sequential DynamoDB round trips). */
  startConcurrency?: number;
  /** How often a job's in-flight operations are checked for a first attempt that was never queued. */
  recoveryEveryMs?: number;
  /** An operation still PENDING with no attempt this long after its creation lost its first attempt. */
  lostAttemptAfterMs?: number;
}

export type TickResult =
  /** A duplicate tick (or one of a job no longer ticking): nothing done. */
  | { kind: 'dropped' }
  /** A redelivered tick whose claim had been made: the next one is queued again, so the chain goes on. */
  | { kind: 'resumed' }
  | {
      kind: 'ticked';
      started: number;
      settled: number;
      next: ReturnType<typeof afterTick>;
      /** RUNNING with cards left to start, none found and nothing in flight: the job is not moving (alarmed). */
      stalled: boolean;
      /** First attempts queued again for operations that lost theirs. */
      requeued: number;
    };

export const TICK_DELAY_SECONDS = 1;
/**
 * A tick stops starting cards after this long, so it ends well within its message's visibility timeout (a tick
 * still running when its message reappears would be resumed by a second tick, both preparing the same cards); the
 * budget of the next tick counts the time since this one, so the pace is kept.
 */
export const TICK_WORK_MS = 2000;
/**
 * Parallel starts: enough for a tick's budget (up to MAX_TICK_SECONDS of D1's allowance) in about a second, few
 * enough that the start transactions, which all update the job's counts item, seldom collide.
 */
const START_CONCURRENCY = 16;

/**
 * A tick that took a second or more queues the next one without delay: the budget counts the time since the
 * previous tick, so the pace stays D1's allowance, and the wait would only leave the bulk lane idle.
 */
export const nextTickDelaySeconds = (tickStartedMs: number, nowMs: number): number =>
  nowMs - tickStartedMs >= TICK_DELAY_SECONDS * 1000 ? 0 : TICK_DELAY_SECONDS;
const FIVE_MINUTES = 5 * 60_000;

/**
 * One tick of a bulk job (DESIGN §9), the job runner's unit of work:
 * 1. Claim it: the job moves from `generation` to `generation + 1` on a condition, so a duplicate or a redelivered
 *    tick claims nothing. A *redelivered* tick whose claim is found made (the job at generation + 1) crashed
 *    between its claim and queueing the next tick: it queues that next tick again, so the chain never ends by a
 *    crash; a duplicate of that next tick is in turn dropped by its own claim.
 * 2. A RUNNING job starts up to its budget of QUEUED cards (D1's allowance since the previous tick): each card is
 *    one CARD-scope operation, created with the card's start in one transaction (exactly once per card).
 * 3. On the job as it now is: COMPLETED when every card settled, a CANCELLED job closed (completedAt) once nothing
 *    is in flight, else the next tick, a second later (at once when this tick took a second or more).
 * Every few minutes a ticking job also queues attempt 1 again for its operations still PENDING with no attempt made
 * minutes after their creation: a crash between a card's start and its first attempt's queueing.
 */
export async function runJobTick(deps: TickDeps, tick: JobTick, redelivered: boolean): Promise<TickResult> {
  const now = deps.now();
  const claim = await deps.jobs.claimTick(tick.jobId, tick.generation, now);
  if (claim.kind === 'lost') {
    const job = claim.job;
    if (!redelivered || !job || job.generation !== tick.generation + 1 || afterTick(job) === 'END') return { kind: 'dropped' };
    await deps.ticks.send({ jobId: tick.jobId, generation: job.generation }, TICK_DELAY_SECONDS);
    return { kind: 'resumed' };
  }

  const job = claim.job;
  let started = 0;
  let found = 0;
  if (job.status === 'RUNNING' && notStarted(job.counts) > 0) {
    const budget = Math.min(tickBudget(deps.maxTps, claim.previousTickAt, now), notStarted(job.counts));
    const cards = await deps.jobs.queuedCards(job.jobId, budget);
    found = cards.length;
    started = await startCards(deps, job, cards, now.getTime() + TICK_WORK_MS);
  }

  const fresh = (await deps.jobs.get(job.jobId)) ?? job;
  const stalled = fresh.status === 'RUNNING' && found === 0 && notStarted(fresh.counts) > 0 && fresh.counts.inFlight === 0;
  const requeued = started === 0 ? await requeueLostAttempts(deps, fresh, now) : 0;
  let next = afterTick(fresh);
  if ((next === 'COMPLETE' || next === 'CLOSE') && !(await deps.jobs.close(fresh, deps.now()))) next = 'CONTINUE'; // it changed meanwhile
  if (next === 'CONTINUE') {
    await deps.ticks.send({ jobId: job.jobId, generation: job.generation }, nextTickDelaySeconds(now.getTime(), deps.now().getTime()));
  }
  return { kind: 'ticked', started, settled: claim.settledSinceLastTick, next, stalled, requeued };
}

/**
 * Starts the cards, a few at a time, until `deadline`: the cards left stay QUEUED for the next tick. A failure
 * fails the tick (redelivered, it resumes) once the others are done.
 */
async function startCards(deps: TickDeps, job: Job, cards: readonly string[], deadline: number): Promise<number> {
  let started = 0;
  let next = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < cards.length && deps.now().getTime() < deadline) {
      const card = cards[next++]!;
      try {
        if ((await startJobCard(deps.request, job, card)) === 'STARTED') started++;
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.startConcurrency ?? START_CONCURRENCY, cards.length) }, worker));
  if (failures.length > 0) throw failures[0];
  return started;
}

/**
 * Cheap by construction: at most once per `recoveryEveryMs` per job, only its IN_FLIGHT cards (those started and
 * not settled), and only while it has some. A second attempt 1 for an operation whose first one is merely late is
 * harmless: the submitter skips an attempt already made, and D1's callbacks for the same correlation id dedupe.
 */
async function requeueLostAttempts(deps: TickDeps, job: Job, now: Date): Promise<number> {
  const every = deps.recoveryEveryMs ?? FIVE_MINUTES;
  const since = job.lastRecoveryAt ?? job.startedAt;
  if (job.counts.inFlight === 0 || (since !== null && now.getTime() - Date.parse(since) < every)) return 0;
  const lostBefore = now.getTime() - (deps.lostAttemptAfterMs ?? FIVE_MINUTES);
  let requeued = 0;
  for (const operationId of await deps.jobs.inFlightOperations(job.jobId)) {
    const operation = await deps.request.operations.get(operationId);
    if (operation?.status !== 'PENDING' || operation.submitAttempts > 0 || Date.parse(operation.createdAt) > lostBefore) continue;
    await deps.request.queue.submit({ operationId, attempt: 1 }, 0);
    requeued++;
  }
  await deps.jobs.markRecovery(job.jobId, now);
  return requeued;
}
