import fc from 'fast-check';
import {
  afterTick,
  cancelDecision,
  cardSettlement,
  countsAddUp,
  countsAfterSettle,
  countsAfterStart,
  jobView,
  newJob,
  notStarted,
  SETTLED_CARD_STATUSES,
  startDecision,
  tickBudget,
  type Job,
  type JobCounts,
  type JobStatus,
} from '../../lambdas/domain/job';
import { newOperation, type Operation, type OperationStatus } from '../../lambdas/domain/operation';
import { callerIdentity } from '../../lambdas/http/caller';
import { nextTickDelaySeconds } from '../../lambdas/use-cases/run-job-tick';
import { consumerConcurrency } from '../../lambdas/topology';
import { lostARaceOnly } from '../../lambdas/adapters/dynamodb-transactions';
import type { HttpEvent } from '../../lambdas/http/route';

/** The bulk job domain (DESIGN §9): transitions, the tick's budget and decision, the counts invariant. */

const NOW = new Date('2026-12-01T10:00:00.000Z');
const job = (status: JobStatus, counts: Partial<JobCounts> = {}, extra: Partial<Job> = {}): Job => {
  const base = newJob({ jobId: 'job-1', action: 'SUSPEND', now: NOW });
  return { ...base, status, counts: { ...base.counts, ...counts }, ...extra };
};

describe('newJob and jobView', () => {
  it('a new job is PENDING with no cards; the view shows exactly the contract fields', () => {
    const j = newJob({ jobId: 'j', action: 'DELETE', reason: 'closure', requestedBy: 'arn:aws:iam::1:user/a', now: NOW });
    expect(jobView(j)).toEqual({
      jobId: 'j',
      action: 'DELETE',
      reason: 'closure',
      status: 'PENDING',
      counts: { cards: 0, started: 0, SUCCEEDED: 0, PARTIALLY_FAILED: 0, FAILED: 0, inFlight: 0 },
      createdAt: NOW.toISOString(),
      startedAt: null,
      completedAt: null,
      updatedAt: NOW.toISOString(),
    });
    expect(newJob({ jobId: 'j', action: 'RESUME', now: NOW })).toMatchObject({ reason: null, requestedBy: null, generation: 0 });
  });
});

describe('transitions', () => {
  it.each([
    ['PENDING', 'START', 'CANCEL'],
    ['RUNNING', 'ALREADY_RUNNING', 'CANCEL'],
    ['CANCELLED', 'NOT_PENDING', 'ALREADY_CANCELLED'],
    ['COMPLETED', 'NOT_PENDING', 'COMPLETED'],
  ] as const)('%s: start → %s, cancel → %s', (status, start, cancel) => {
    expect(startDecision(job(status))).toBe(start);
    expect(cancelDecision(job(status))).toBe(cancel);
  });

  it('after a tick: COMPLETE when every card settled, CLOSE a cancelled job once nothing is in flight, else CONTINUE; END when not ticking', () => {
    expect(afterTick(job('RUNNING', { cards: 3, started: 3, SUCCEEDED: 3 }))).toBe('COMPLETE');
    expect(afterTick(job('RUNNING', { cards: 3, started: 3, SUCCEEDED: 2, inFlight: 1 }))).toBe('CONTINUE');
    expect(afterTick(job('RUNNING', { cards: 3, started: 1, inFlight: 1 }))).toBe('CONTINUE');
    expect(afterTick(job('CANCELLED', { cards: 3, started: 1, inFlight: 1 }))).toBe('CONTINUE');
    expect(afterTick(job('CANCELLED', { cards: 3, started: 1, FAILED: 1 }))).toBe('CLOSE');
    expect(afterTick(job('CANCELLED', { cards: 3 }, { completedAt: NOW.toISOString() }))).toBe('END');
    expect(afterTick(job('COMPLETED', { cards: 1, started: 1, SUCCEEDED: 1 }, { completedAt: NOW.toISOString() }))).toBe('END');
    expect(afterTick(job('PENDING', { cards: 1 }))).toBe('END');
  });
});

describe('tickBudget: D1_MAX_TPS × seconds since the previous tick, capped at 2 s, at least 1', () => {
  const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();
  it.each([
    [50, ago(1000), 50],
    [50, ago(1500), 75],
    [50, ago(60_000), 100],
    [50, ago(10), 1],
    [50, null, 50],
    [3, ago(1200), 3],
    [1, ago(0), 1],
  ])('tps %d, previous tick %s → %d', (tps, previous, budget) => {
    expect(tickBudget(tps, previous, NOW)).toBe(budget);
  });
});

describe('cardSettlement: only the save that makes a job operation final settles its card', () => {
  const op = (status: OperationStatus, jobId: string | null = 'job-1'): Operation => ({
    ...newOperation({ operationId: 'op-1', action: 'SUSPEND', issuerCardRefId: 'card-1', expectedTokens: [], now: NOW, jobId }),
    status,
  });
  it('non-final → final with a jobId: the card settles with the final status', () => {
    for (const status of SETTLED_CARD_STATUSES) {
      expect(cardSettlement('SUBMITTED', op(status))).toEqual({ jobId: 'job-1', issuerCardRefId: 'card-1', operationId: 'op-1', status });
      expect(cardSettlement('PENDING', op(status))).toMatchObject({ status });
    }
  });
  it('no job, still open, or already final before: nothing', () => {
    expect(cardSettlement('SUBMITTED', op('SUCCEEDED', null))).toBeNull();
    expect(cardSettlement('PENDING', op('SUBMITTED'))).toBeNull();
    expect(cardSettlement('SUCCEEDED', op('SUCCEEDED'))).toBeNull();
    expect(cardSettlement('FAILED', op('FAILED'))).toBeNull();
  });
});

describe('the counts add up (property)', () => {
  it('any sequence of adds, starts and settlements keeps cards = not started + started and started = settled + inFlight', () => {
    type Step = { kind: 'add'; n: number } | { kind: 'start' } | { kind: 'settle'; status: (typeof SETTLED_CARD_STATUSES)[number] };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), n: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant('start' as const) }),
      fc.record({ kind: fc.constant('settle' as const), status: fc.constantFrom(...SETTLED_CARD_STATUSES) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        let counts = job('PENDING').counts;
        for (const s of steps) {
          // What the store's conditions allow: a start needs a QUEUED card, a settlement an in-flight one.
          if (s.kind === 'add') counts = { ...counts, cards: counts.cards + s.n };
          else if (s.kind === 'start' && notStarted(counts) > 0) counts = countsAfterStart(counts);
          else if (s.kind === 'settle' && counts.inFlight > 0) counts = countsAfterSettle(counts, s.status);
          expect(countsAddUp(counts)).toBe(true);
          expect(notStarted(counts) + counts.started).toBe(counts.cards);
        }
      }),
    );
  });

  it('counts that do not add up are seen as such', () => {
    expect(countsAddUp({ cards: 1, started: 2, SUCCEEDED: 2, PARTIALLY_FAILED: 0, FAILED: 0, inFlight: 0 })).toBe(false);
    expect(countsAddUp({ cards: 2, started: 2, SUCCEEDED: 1, PARTIALLY_FAILED: 0, FAILED: 0, inFlight: 0 })).toBe(false);
    expect(countsAddUp({ cards: 2, started: 1, SUCCEEDED: 2, PARTIALLY_FAILED: 0, FAILED: 0, inFlight: -1 })).toBe(false);
  });
});

describe('callerIdentity', () => {
  const event = (requestContext: unknown) => ({ requestContext }) as unknown as HttpEvent;
  it('the IAM user or role ARN API Gateway authorised; null without one (local gateway)', () => {
    expect(callerIdentity(event({ authorizer: { iam: { userArn: 'arn:aws:sts::1:assumed-role/backoffice/s' } } }))).toBe(
      'arn:aws:sts::1:assumed-role/backoffice/s',
    );
    expect(callerIdentity(event({}))).toBeNull();
    expect(callerIdentity(event(undefined))).toBeNull();
  });
});

describe('the next tick', () => {
  it('waits a second after a quick tick, and none after a tick that took a second or more', () => {
    expect(nextTickDelaySeconds(10_000, 10_400)).toBe(1);
    expect(nextTickDelaySeconds(10_000, 10_999)).toBe(1);
    expect(nextTickDelaySeconds(10_000, 11_000)).toBe(0);
    expect(nextTickDelaySeconds(10_000, 14_000)).toBe(0);
  });
});

describe('the bulk lane concurrency', () => {
  const bulk = { batchSize: 10, maxConcurrency: 10, pacedByD1: true };
  it('grows with D1_MAX_TPS so that every slot has a record waiting for it, never below the spec or above 1 000', () => {
    expect(consumerConcurrency(bulk, 50)).toBe(10);
    expect(consumerConcurrency(bulk, 200)).toBe(30);
    expect(consumerConcurrency(bulk, 500)).toBe(75);
    expect(consumerConcurrency({ ...bulk, batchSize: 1 }, 1000)).toBe(1000);
    expect(consumerConcurrency({ batchSize: 5, maxConcurrency: 5 }, 500)).toBe(5);
  });
});

describe('a start or settlement transaction that only lost a race', () => {
  it('is sent again; one whose condition failed is not', () => {
    expect(lostARaceOnly(['None', 'TransactionConflict'])).toBe(true);
    expect(lostARaceOnly(['TransactionConflict', 'TransactionConflict', 'None'])).toBe(true);
    expect(lostARaceOnly(['ConditionalCheckFailed', 'TransactionConflict'])).toBe(false);
    expect(lostARaceOnly(['None', 'ConditionalCheckFailed'])).toBe(false);
    expect(lostARaceOnly(['ThrottlingError'])).toBe(false);
    expect(lostARaceOnly([])).toBe(false);
  });
});
