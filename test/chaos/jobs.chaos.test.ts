import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbJobStore } from '../../lambdas/adapters/dynamodb-job-store';
import { DynamoDbOperationStore } from '../../lambdas/adapters/dynamodb-operation-store';
import { DynamoDbTokenStore } from '../../lambdas/adapters/dynamodb-token-store';
import { countsAddUp, SETTLED_CARD_STATUSES, type Job, type JobCard } from '../../lambdas/domain/job';
import { recordSubmission, type Operation } from '../../lambdas/domain/operation';
import type { JobStore } from '../../lambdas/ports/job-store';
import type { OperationStore } from '../../lambdas/ports/operation-store';
import type { JobTickQueue, SubmissionQueue } from '../../lambdas/ports/queues';
import { cancelJob, createJob, startJob } from '../../lambdas/use-cases/lcm-jobs';
import { runJobTick, type TickDeps } from '../../lambdas/use-cases/run-job-tick';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provisionResources } from '../../local/local-aws';
import { chaosSeed, FULL, report, runs } from './support/config';

/**
 * Bulk jobs under crashes, redeliveries and duplicates (DESIGN §9 "every card is started exactly once, and the counts
 * add up"), on the real job runner use case and the real DynamoDB adapters (DynamoDB Local, this file's own table).
 * The lcm-jobs and bulk-lane queues are in memory so the test chooses, step by step, what each does:
 *  - tick messages delivered, delivered twice at once (two consumers), duplicated, or redelivered after a crash;
 *  - the runner crashing right after a card's start transaction (its first attempt never queued), after its claim
 *    before anything started, and after its starts before the next tick was queued;
 *  - first attempts dropped on the way to the bulk lane; D1 accepting attempts; callbacks settling operations (and
 *    later saves of operations already final); one job cancelled half-way.
 * Invariants, checked after every step and at the end: the counts add up at every observation; at most one
 * operation per card, and exactly the started ones; no card starts after its job was cancelled; the tick chain
 * never dies while a job has work (every job ends COMPLETED or CANCELLED with completedAt); every card's status is
 * its operation's final status; no operation is left PENDING (a lost first attempt is queued again by the runner).
 */

const SEED = chaosSeed();
const JOBS = FULL ? 3 : 2;
const CARDS = runs('CHAOS_JOB_CARDS', 300, 30);
const CHAOS_STEPS = runs('CHAOS_JOB_STEPS', 1500, 200);
const MAX_TPS = 7;

/** mulberry32: a small seeded PRNG, so CHAOS_SEED replays a run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(SEED);
const chance = (p: number) => random() < p;
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

class Crash extends Error {}

interface TickMessage {
  tick: { jobId: string; generation: number };
  receiveCount: number;
}

let client: DynamoDBDocumentClient;
let tableName: string;
let jobs: JobStore;
let operations: OperationStore;
let deps: TickDeps;
let clock = Date.parse('2026-12-01T00:00:00.000Z');
const ticks: TickMessage[] = [];
const attempts: { operationId: string; attempt: number }[] = [];
const faults = { crashAfterCreate: 0, crashBeforeStart: 0, crashBeforeNextTick: 0, dropAttempt: 0 };
const seen = { steps: 0, observations: 0, ticks: 0, dropped: 0, resumed: 0, crashes: 0, duplicates: 0, concurrent: 0, requeued: 0, lateSaves: 0 };

beforeAll(async () => {
  const ddbEndpoint = process.env.LOCAL_DDB_ENDPOINT!;
  const resources = await provisionResources({ ddbEndpoint, sqsEndpoint: process.env.LOCAL_SQS_ENDPOINT!, prefix: `jobchaos${randomUUID().slice(0, 6)}-` });
  tableName = resources.env.TABLE_NAME!;
  client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: ddbEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
  const now = () => new Date(clock);
  const realJobs = new DynamoDbJobStore(client, tableName, () => clock);
  const realOperations = new DynamoDbOperationStore(client, tableName, () => clock);
  jobs = realJobs;
  operations = realOperations;
  // The runner's view of the store, with its crash points.
  const crashingJobs: JobStore = Object.assign(Object.create(realJobs) as JobStore, {
    queuedCards: async (jobId: string, limit: number) => {
      if (faults.crashBeforeStart-- > 0) throw new Crash('runner died after its claim');
      return realJobs.queuedCards(jobId, limit);
    },
  });
  const crashingOperations: OperationStore = Object.assign(Object.create(realOperations) as OperationStore, {
    create: async (operation: Operation) => {
      const created = await realOperations.create(operation);
      if (faults.crashAfterCreate-- > 0) throw new Crash('runner died right after a start transaction');
      return created;
    },
  });
  const bulkLane: SubmissionQueue = {
    submit: async (message) => {
      if (faults.dropAttempt-- > 0) return; // lost on the way: the runner must queue it again
      attempts.push(message);
    },
  };
  const tickQueue: JobTickQueue = {
    send: async (tick) => {
      if (faults.crashBeforeNextTick-- > 0) throw new Crash('runner died before queueing the next tick');
      ticks.push({ tick, receiveCount: 0 });
    },
  };
  deps = {
    jobs: crashingJobs,
    ticks: tickQueue,
    request: { tokens: new DynamoDbTokenStore(client, { tableName }), operations: crashingOperations, queue: bulkLane, now },
    maxTps: MAX_TPS,
    now,
    startConcurrency: 3,
    recoveryEveryMs: 5_000,
    lostAttemptAfterMs: 10_000,
  };
});

afterAll(() => client?.destroy());

async function observe(jobId: string): Promise<Job> {
  const job = (await jobs.get(jobId))!;
  seen.observations++;
  expect({ jobId, counts: job.counts, addUp: countsAddUp(job.counts) }).toMatchObject({ addUp: true });
  return job;
}

async function cardsOf(jobId: string): Promise<JobCard[]> {
  const cards: JobCard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await jobs.listCards(jobId, {}, { limit: 100, nextToken });
    cards.push(...page.items);
    nextToken = page.nextToken ?? undefined;
  } while (nextToken);
  return cards;
}

/** One delivery of a tick message, as the SQS event source would make it; a crash leaves it for redelivery. */
async function deliver(message: TickMessage): Promise<void> {
  message.receiveCount++;
  seen.ticks++;
  try {
    const result = await runJobTick(deps, message.tick, message.receiveCount > 1);
    if (result.kind === 'dropped') seen.dropped++;
    if (result.kind === 'resumed') seen.resumed++;
    if (result.kind === 'ticked') seen.requeued += result.requeued;
    ticks.splice(ticks.indexOf(message), 1);
  } catch (err) {
    if (!(err instanceof Crash)) throw err;
    seen.crashes++;
  }
}

/** Operations D1 accepted (SUBMITTED, awaiting callbacks) and those already final. */
const submitted = new Set<string>();
const settled = new Set<string>();

/** D1 accepts one queued attempt (the submitter's save: PENDING → SUBMITTED). */
async function submitOne(): Promise<void> {
  const message = attempts.splice(Math.floor(random() * attempts.length), 1)[0];
  if (!message) return;
  const op = await operations.get(message.operationId);
  if (!op || op.status !== 'PENDING' || op.submitAttempts >= message.attempt) return;
  await operations.save(recordSubmission(op, message.attempt, { kind: 'accepted' }, 8, new Date(clock)).operation, op);
  submitted.add(op.operationId);
}

/** Callbacks settle one SUBMITTED operation; now and then a final one is saved again (a late answer, say). */
async function settleOne(): Promise<void> {
  const late = settled.size > 0 && chance(0.15);
  const pool = [...(late ? settled : submitted)];
  if (pool.length === 0) return;
  const op = (await operations.get(pick(pool)))!;
  if (late) seen.lateSaves++;
  const status = late ? op.status : pick(SETTLED_CARD_STATUSES);
  expect(await operations.save({ ...op, status, updatedAt: new Date(clock).toISOString() }, op)).toBe('SAVED');
  submitted.delete(op.operationId);
  settled.add(op.operationId);
}

it(`bulk jobs: ${JOBS} jobs × ${CARDS} cards, crashes, redeliveries and duplicate ticks → each card started exactly once, counts add up`, async () => {
  const jobIds: string[] = [];
  for (let j = 0; j < JOBS; j++) {
    const cards = Array.from({ length: CARDS }, (_, i) => `jc-${SEED}-${j}-${i}`);
    const jobDeps = { jobs, ticks: deps.ticks, now: deps.now };
    const { job } = await createJob(jobDeps, { action: 'SUSPEND', issuerCardRefIds: cards });
    await startJob(jobDeps, job.jobId);
    jobIds.push(job.jobId);
  }
  const cancelled = jobIds[0]!;
  let startedAtCancel: number | null = null;

  for (let step = 0; step < CHAOS_STEPS; step++) {
    seen.steps++;
    const roll = random();
    if (roll < 0.45 && ticks.length > 0) {
      clock += 1000;
      const r = random();
      if (r < 0.08) faults.crashAfterCreate = 1;
      else if (r < 0.14) faults.crashBeforeStart = 1;
      else if (r < 0.22) faults.crashBeforeNextTick = 1;
      if (chance(0.15)) faults.dropAttempt = 1;
      const message = pick(ticks);
      if (chance(0.1)) {
        // Two consumers got the same message at once.
        seen.concurrent++;
        const twin = { ...message, tick: { ...message.tick } };
        ticks.push(twin);
        await Promise.all([deliver(message), deliver(twin)]);
      } else await deliver(message);
      faults.crashAfterCreate = faults.crashBeforeStart = faults.crashBeforeNextTick = faults.dropAttempt = 0;
    } else if (roll < 0.5 && ticks.length > 0) {
      seen.duplicates++;
      const message = pick(ticks);
      ticks.push({ tick: { ...message.tick }, receiveCount: 0 });
    } else if (roll < 0.75) {
      for (let k = 0; k < 3; k++) await submitOne();
    } else {
      await settleOne();
    }
    if (startedAtCancel === null && step > CHAOS_STEPS / 3) {
      startedAtCancel = (await cancelJob({ jobs, ticks: deps.ticks, now: deps.now }, cancelled)).counts.started;
    }
    for (const jobId of jobIds) await observe(jobId);
    if (startedAtCancel !== null) expect((await observe(cancelled)).counts.started).toBe(startedAtCancel);
  }

  // Heal: no more faults; everything queued is delivered, accepted and settled until every job is closed.
  for (let round = 0; ; round++) {
    const open = (await Promise.all(jobIds.map(observe))).filter((job) => job.completedAt === null);
    if (open.length === 0 && ticks.length === 0) break;
    expect({ round, open: open.map((j) => [j.status, j.counts]), chainAlive: ticks.length > 0 || open.length === 0 }).toMatchObject({ chainAlive: true });
    expect(round).toBeLessThan(CARDS * 20);
    clock += 1000;
    for (const message of [...ticks]) await deliver(message);
    while (attempts.length > 0) await submitOne();
    while (submitted.size > 0) await settleOne();
  }

  for (const jobId of jobIds) {
    const job = await observe(jobId);
    const cards = await cardsOf(jobId);
    const started = cards.filter((c) => c.operationId !== null);
    expect(job.status).toBe(jobId === cancelled ? 'CANCELLED' : 'COMPLETED');
    expect(job.counts.cards).toBe(CARDS);
    expect(job.counts.inFlight).toBe(0);
    expect(job.counts.started).toBe(started.length);
    if (jobId === cancelled) expect(job.counts.started).toBe(startedAtCancel);
    else expect(job.counts.started).toBe(CARDS);
    // One operation per started card, each of that card and job, its final status the card's.
    expect(new Set(started.map((c) => c.operationId)).size).toBe(started.length);
    for (const card of started) {
      const op = (await operations.get(card.operationId!))!;
      expect(op).toMatchObject({ jobId, issuerCardRefId: card.issuerCardRefId, scope: 'CARD', status: card.status });
    }
    for (const card of cards.filter((c) => c.operationId === null)) expect(card.status).toBe('QUEUED');
    const byStatus = (s: string) => cards.filter((c) => c.status === s).length;
    expect(job.counts).toMatchObject({ SUCCEEDED: byStatus('SUCCEEDED'), PARTIALLY_FAILED: byStatus('PARTIALLY_FAILED'), FAILED: byStatus('FAILED') });
  }
  // Not one operation beyond the started cards: a second operation for a card would be one no card points at.
  const jobOperations: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'entity = :op AND attribute_type(jobId, :s)',
        ExpressionAttributeValues: { ':op': 'OPERATION', ':s': 'S' },
        ExclusiveStartKey: start,
      }),
    );
    jobOperations.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const startedTotal = (await Promise.all(jobIds.map(observe))).reduce((sum, job) => sum + job.counts.started, 0);
  expect(jobOperations).toHaveLength(startedTotal);
  expect(new Set(jobOperations.map((op) => `${String(op.jobId)}|${String(op.issuerCardRefId)}`)).size).toBe(startedTotal);
  expect(seen.crashes).toBeGreaterThan(0);
  report('jobs.chaos.test.ts', { seed: SEED, jobs: JOBS, cards: CARDS, ...seen });
}, 600_000);
