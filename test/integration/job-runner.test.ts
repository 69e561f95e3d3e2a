import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { DynamoDbJobStore } from '../../lambdas/adapters/dynamodb-job-store';
import { DynamoDbOperationStore } from '../../lambdas/adapters/dynamodb-operation-store';
import { DynamoDbTokenStore } from '../../lambdas/adapters/dynamodb-token-store';
import { newJob, type Job } from '../../lambdas/domain/job';
import { newOperation, type Operation } from '../../lambdas/domain/operation';
import type { JobStore } from '../../lambdas/ports/job-store';
import type { OperationStore } from '../../lambdas/ports/operation-store';
import { createJob, startJob } from '../../lambdas/use-cases/lcm-jobs';
import { runJobTick, TICK_WORK_MS, type TickDeps } from '../../lambdas/use-cases/run-job-tick';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provisionResources } from '../../local/local-aws';

/**
 * The job runner's tick and the job store's conditions, on DynamoDB Local with the real adapters (queues in memory,
 * a clock of the test's): each way a tick ends, the claims of duplicates and redeliveries, the store's answers when a
 * condition does not hold, and the job-runner handler's record function. The end-to-end run is lcm-jobs.test.ts; the
 * crash and redelivery interleavings are test/chaos/jobs.chaos.test.ts.
 */

let client: DynamoDBDocumentClient;
let tableName: string;
let clock = Date.parse('2026-12-01T00:00:00.000Z');
const now = () => new Date(clock);
let jobs: DynamoDbJobStore;
let operations: DynamoDbOperationStore;
const ticks: { jobId: string; generation: number }[] = [];
const attempts: { operationId: string; attempt: number }[] = [];
let tickRecord: (record: SQSRecord, deps: TickDeps) => Promise<void>;

beforeAll(async () => {
  const ddbEndpoint = process.env.LOCAL_DDB_ENDPOINT!;
  const resources = await provisionResources({ ddbEndpoint, sqsEndpoint: process.env.LOCAL_SQS_ENDPOINT!, prefix: `t${randomUUID().slice(0, 8)}-` });
  tableName = resources.env.TABLE_NAME!;
  client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: ddbEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
  jobs = new DynamoDbJobStore(client, tableName, () => clock);
  operations = new DynamoDbOperationStore(client, tableName, () => clock);
  // The handler module reads its env when it loads.
  Object.assign(process.env, resources.env);
  ({ tickRecord } = await import('../../lambdas/handlers/job-runner'));
});
afterAll(() => client?.destroy());
beforeEach(() => {
  ticks.length = 0;
  attempts.length = 0;
});

function tickDeps(over: { jobs?: JobStore; operations?: OperationStore } = {}): TickDeps {
  return {
    jobs: over.jobs ?? jobs,
    ticks: { send: async (tick) => void ticks.push(tick) },
    request: {
      tokens: new DynamoDbTokenStore(client, { tableName }),
      operations: over.operations ?? operations,
      queue: { submit: async (message) => void attempts.push(message) },
      now,
    },
    maxTps: 5,
    now,
    recoveryEveryMs: 60_000,
    lostAttemptAfterMs: 60_000,
  };
}

const record = (tick: { jobId: string; generation: number }, receiveCount = 1): SQSRecord =>
  ({ body: JSON.stringify(tick), attributes: { ApproximateReceiveCount: String(receiveCount) } }) as unknown as SQSRecord;

/** A RUNNING job of `cards` cards, its first tick queued (generation 0). */
async function runningJob(cards: number): Promise<Job> {
  const deps = { jobs, ticks: tickDeps().ticks, now };
  const { job } = await createJob(deps, {
    action: 'SUSPEND',
    issuerCardRefIds: Array.from({ length: cards }, (_, i) => `card-${randomUUID().slice(0, 6)}-${i}`),
  });
  await startJob(deps, job.jobId);
  ticks.length = 0;
  return (await jobs.get(job.jobId))!;
}

const operationOf = async (jobId: string, card: string): Promise<Operation> => {
  const listed = (await jobs.listCards(jobId, {}, { limit: 100 })).items.find((c) => c.issuerCardRefId === card)!;
  return (await operations.get(listed.operationId!))!;
};

describe('a tick', () => {
  it('starts its budget of cards (one operation each, on the bulk lane), queues the next, and the last one completes the job', async () => {
    const job = await runningJob(3);
    clock += 400; // 0.4 s since the start × 5 per second = 2 cards
    const first = await runJobTick(tickDeps(), { jobId: job.jobId, generation: 0 }, false);
    expect(first).toMatchObject({ kind: 'ticked', started: 2, next: 'CONTINUE', stalled: false });
    expect(ticks).toEqual([{ jobId: job.jobId, generation: 1 }]);
    expect(attempts).toHaveLength(2);
    clock += 1000;
    expect(await runJobTick(tickDeps(), { jobId: job.jobId, generation: 1 }, false)).toMatchObject({ started: 1, next: 'CONTINUE' });
    expect((await jobs.get(job.jobId))!.counts).toMatchObject({ cards: 3, started: 3, inFlight: 3 });

    // Their operations become final: the cards settle with them, once, and the next tick completes the job.
    for (const card of (await jobs.listCards(job.jobId, {}, { limit: 10 })).items) {
      const op = (await operations.get(card.operationId!))!;
      expect(op).toMatchObject({ jobId: job.jobId, scope: 'CARD', status: 'PENDING' });
      expect(await operations.save({ ...op, status: 'SUCCEEDED' }, op)).toBe('SAVED');
      const final = (await operations.get(op.operationId))!;
      expect(await operations.save({ ...final, updatedAt: now().toISOString() }, final)).toBe('SAVED'); // a later save: not counted again
      expect(await operations.save({ ...op, status: 'FAILED' }, op)).toBe('CONFLICT'); // on a stale version: nothing written
    }
    expect((await jobs.get(job.jobId))!.counts).toEqual({ cards: 3, started: 3, SUCCEEDED: 3, PARTIALLY_FAILED: 0, FAILED: 0, inFlight: 0 });
    clock += 1000;
    await tickRecord(record({ jobId: job.jobId, generation: 2 }), tickDeps());
    expect(await jobs.get(job.jobId)).toMatchObject({ status: 'COMPLETED', completedAt: now().toISOString(), generation: 3 });
    expect(ticks).toEqual([
      { jobId: job.jobId, generation: 1 },
      { jobId: job.jobId, generation: 2 },
    ]);
  });

  it('stops starting cards after TICK_WORK_MS, well within its message visibility; the rest stay QUEUED for the next tick', async () => {
    const job = await runningJob(6);
    clock += 2000; // a budget of 2 s × 5 per second = 10 cards: all 6 would fit
    let tickClock = clock;
    // Each look at the tick's clock is 900 ms later: two cards fit in the tick's 2 s of work.
    const slow: TickDeps = { ...tickDeps(), startConcurrency: 1, now: () => new Date((tickClock += 900)) };
    expect(TICK_WORK_MS).toBe(2000);
    expect(await runJobTick(slow, { jobId: job.jobId, generation: 0 }, false)).toMatchObject({ kind: 'ticked', started: 2, next: 'CONTINUE' });
    expect((await jobs.get(job.jobId))!.counts).toMatchObject({ cards: 6, started: 2, inFlight: 2 });
    expect((await jobs.listCards(job.jobId, { status: 'QUEUED' }, { limit: 10 })).items).toHaveLength(4);
    clock = tickClock + 1000;
    expect(await runJobTick(tickDeps(), { jobId: job.jobId, generation: 1 }, false)).toMatchObject({ started: 4 });
  });

  it('duplicates are dropped by their claim; a redelivery whose claim was made queues the next tick again', async () => {
    const job = await runningJob(2);
    clock += 1000;
    await runJobTick(tickDeps(), { jobId: job.jobId, generation: 0 }, false);
    ticks.length = 0;
    expect(await runJobTick(tickDeps(), { jobId: job.jobId, generation: 0 }, false)).toEqual({ kind: 'dropped' });
    expect(await runJobTick(tickDeps(), { jobId: job.jobId, generation: 0 }, true)).toEqual({ kind: 'resumed' });
    expect(ticks).toEqual([{ jobId: job.jobId, generation: 1 }]);
    await tickRecord(record({ jobId: job.jobId, generation: 0 }, 2), tickDeps()); // logged as resumed
    await tickRecord(record({ jobId: job.jobId, generation: 5 }, 1), tickDeps()); // logged as dropped
    // A redelivery two generations behind is not the last claim: nothing queued.
    await runJobTick(tickDeps(), { jobId: job.jobId, generation: 1 }, false);
    ticks.length = 0;
    expect(await runJobTick(tickDeps(), { jobId: job.jobId, generation: 0 }, true)).toEqual({ kind: 'dropped' });
    expect(await runJobTick(tickDeps(), { jobId: 'no-such-job', generation: 0 }, true)).toEqual({ kind: 'dropped' });
    expect(ticks).toEqual([]);
    expect((await jobs.get(job.jobId))!.counts.started).toBe(2);
  });

  it('a job whose counts name cards none of which is QUEUED is stalled (alarmed) and keeps ticking', async () => {
    const job = await runningJob(1);
    await client.send(
      new UpdateCommand({
        TableName: tableName,
        Key: { pk: `JOB#${job.jobId}`, sk: 'JOB' },
        UpdateExpression: 'ADD cards :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
    clock += 1000;
    await runJobTick(tickDeps(), { jobId: job.jobId, generation: 0 }, false);
    const card = (await jobs.listCards(job.jobId, {}, { limit: 10 })).items[0]!;
    const op = (await operations.get(card.operationId!))!;
    await operations.save({ ...op, status: 'FAILED', failure: { reason: 'D1_REJECTED' } }, op);
    clock += 1000;
    expect(await runJobTick(tickDeps(), { jobId: job.jobId, generation: 1 }, false)).toMatchObject({ started: 0, stalled: true, next: 'CONTINUE', settled: 1 });
    await tickRecord(record({ jobId: job.jobId, generation: 2 }), tickDeps()); // logged and counted as stalled
  });

  it('a card that fails to start fails the tick once the others are done; a close that lost a race goes on ticking', async () => {
    const job = await runningJob(3);
    let creates = 0;
    const failing = Object.assign(Object.create(operations) as OperationStore, {
      create: async (op: Operation) => {
        if (creates++ === 1) throw new Error('DynamoDB unavailable');
        return operations.create(op);
      },
    });
    clock += 1000;
    await expect(runJobTick(tickDeps({ operations: failing }), { jobId: job.jobId, generation: 0 }, false)).rejects.toThrow('DynamoDB unavailable');
    expect((await jobs.get(job.jobId))!.counts.started).toBe(2);

    const cancelled = await runningJob(1);
    await jobs.cancel(cancelled.jobId, now());
    const racing = Object.assign(Object.create(jobs) as JobStore, { close: async () => false });
    expect(await runJobTick(tickDeps({ jobs: racing }), { jobId: cancelled.jobId, generation: 0 }, false)).toMatchObject({ started: 0, next: 'CONTINUE' });
    clock += 1000;
    await tickRecord(record({ jobId: cancelled.jobId, generation: 1 }), tickDeps()); // now closed (logged)
    expect(await jobs.get(cancelled.jobId)).toMatchObject({ status: 'CANCELLED', completedAt: now().toISOString() });
    expect(await runJobTick(tickDeps(), { jobId: cancelled.jobId, generation: 2 }, true)).toEqual({ kind: 'dropped' });
  });

  it('queues attempt 1 again for operations PENDING with no attempt long after their start, at most every recovery interval', async () => {
    const job = await runningJob(3);
    clock += 1000;
    await runJobTick(tickDeps(), { jobId: job.jobId, generation: 0 }, false);
    const cards = (await jobs.listCards(job.jobId, {}, { limit: 10 })).items;
    const [lost, submitted, fresh] = await Promise.all(cards.map((c) => operationOf(job.jobId, c.issuerCardRefId)));
    await operations.save({ ...submitted!, status: 'SUBMITTED', submitAttempts: 1 }, submitted!);
    // One more started long after the others: its attempt is merely late, not lost.
    clock += 120_000;
    await operations.save({ ...fresh!, createdAt: now().toISOString() }, fresh!);
    attempts.length = 0;
    const result = await runJobTick(tickDeps(), { jobId: job.jobId, generation: 1 }, false);
    expect(result).toMatchObject({ started: 0, requeued: 1, next: 'CONTINUE' });
    expect(attempts).toEqual([{ operationId: lost!.operationId, attempt: 1 }]);
    await tickRecord(record({ jobId: job.jobId, generation: 2 }), tickDeps()); // within the interval: nothing again
    expect(attempts).toHaveLength(1);
    clock += 61_000;
    await tickRecord(record({ jobId: job.jobId, generation: 3 }), tickDeps()); // logged with its requeued count
    expect(attempts.map((a) => a.operationId).sort()).toEqual([lost!.operationId, lost!.operationId, fresh!.operationId].sort());
  });
});

describe('the job store when a condition does not hold', () => {
  it('an idempotency key claimed already (or expired) and a job no longer PENDING', async () => {
    const job = newJob({ jobId: randomUUID(), action: 'RESUME', now: now() });
    const claim = { key: `k-${randomUUID()}`, requestHash: 'h1', expiresAt: Math.floor(clock / 1000) + 60 };
    expect(await jobs.create(job, claim)).toEqual({ kind: 'created' });
    expect(await jobs.create({ ...job, jobId: randomUUID() }, { ...claim, requestHash: 'h2' })).toEqual({
      kind: 'key-exists',
      jobId: job.jobId,
      requestHash: 'h1',
    });
    clock += 120_000; // the key expired: free again, whatever TTL has not deleted yet
    expect(await jobs.findIdempotencyKey(claim.key)).toBeNull();
    expect(await jobs.create({ ...job, jobId: randomUUID() }, claim)).toEqual({ kind: 'created' });
    await expect(jobs.create(job)).rejects.toThrow(); // the same job twice: not an idempotency matter

    // Two requests adding the same cards at once: each card counted once.
    const cards = Array.from({ length: 150 }, (_, i) => `same-${i}`);
    const results = await Promise.all([jobs.addCards(job.jobId, cards, now()), jobs.addCards(job.jobId, [...cards].reverse(), now())]);
    expect(results.map((r) => (r.kind === 'added' ? r.added : -1)).reduce((a, b) => a + b)).toBe(150);
    expect((await jobs.get(job.jobId))!.counts.cards).toBe(150);

    expect(await jobs.start(job.jobId, now())).toBe(true);
    expect(await jobs.start(job.jobId, now())).toBe(false);
    expect(await jobs.addCards(job.jobId, ['late'], now())).toEqual({ kind: 'not-pending' });
    expect(await jobs.close((await jobs.get(job.jobId))!, now())).toBe(false); // RUNNING with cards left
    expect(await jobs.cancel(job.jobId, now())).toBe(true);
    expect(await jobs.cancel(job.jobId, now())).toBe(false);
    expect(await jobs.claimTick(job.jobId, 7, now())).toMatchObject({ kind: 'lost', job: { generation: 0, status: 'CANCELLED' } });
    expect(await jobs.get('no-such-job')).toBeNull();
  });

  it("a job's operation is not created for a card already started or a job no longer RUNNING", async () => {
    const job = await runningJob(1);
    const card = (await jobs.listCards(job.jobId, {}, { limit: 1 })).items[0]!.issuerCardRefId;
    const op = (id: string) => newOperation({ operationId: id, action: 'SUSPEND', issuerCardRefId: card, expectedTokens: [], now: now(), jobId: job.jobId });
    expect(await operations.create(op(randomUUID()))).toEqual({ kind: 'created' });
    expect(await operations.create(op(randomUUID()))).toEqual({ kind: 'card-not-startable' });
    const other = await runningJob(1);
    await jobs.cancel(other.jobId, now());
    const otherCard = (await jobs.listCards(other.jobId, {}, { limit: 1 })).items[0]!.issuerCardRefId;
    const late = newOperation({ operationId: randomUUID(), action: 'SUSPEND', issuerCardRefId: otherCard, expectedTokens: [], now: now(), jobId: other.jobId });
    expect(await operations.create(late)).toEqual({ kind: 'card-not-startable' });
    expect(await operations.get(late.operationId)).toBeNull();
  });
});
