/**
 * The measurements, one function per phase. Each takes the running service process and returns plain figures;
 * run.ts orders them, and report.ts turns them into the table.
 */
import { performance } from 'node:perf_hooks';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { measureAck, sendAll, type AckFigures, type AckTarget } from './load';
import {
  addCounters,
  BARE_APPLY_CONSUMER,
  BARE_ROUTE_PATH,
  BENCH_ISSUER_ID,
  BENCH_TR_API_KEY,
  emptyCounters,
  type ConsumerSet,
  type CounterReport,
} from './protocol';
import type { ServiceProcess } from './service-process';
import { median, percentile } from './stats';
import { openOperations } from './verify';
import { CALLBACK_PATH, TOKEN_UPDATE_PATH, type Delivery } from './workload';

export const now = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns true; throws with `what` after `timeoutMs`. */
async function waitFor(what: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

// ------------------------------------------------------------------------------------------------------------
// 1. Webhook ack latency

export interface AckPhase {
  /** Every baseline round, to show the drift within the run. */
  baselineRuns: AckFigures[];
  baseline: AckFigures;
  notifyVirtualCardChange: AckFigures;
  notifyTokenUpdate: AckFigures;
}

function ackTargets(gatewayUrl: string): Record<'bare' | 'notifyVirtualCardChange' | 'notifyTokenUpdate', AckTarget> {
  const callbackHeaders = { 'content-type': 'application/json', 'x-correlation-id': 'bench-ack-1', 'x-issuer-id': BENCH_ISSUER_ID };
  const callbackBody = JSON.stringify({
    issuerCardRefId: 'ack-card',
    virtualCardId: 'ack-vc',
    action: 'SUSPEND',
    walletProviderId: 'APPLE_PAY',
    source: 'WALLET',
    tokenInfo: { tokenNumber: '4895370012345678', expiryDate: '1228' },
  });
  const updateBody = JSON.stringify({
    tokenId: 'ack-token',
    merchantId: 'ack-merchant',
    lastUpdateTimestamp: '2026-01-01T00:00:00.000Z',
    tokenState: 'ACTIVE',
    tokenLastDigits: '4242',
    tokenExpiryDate: '1229',
  });
  return {
    // The bare endpoint gets the issuer callback: same size, same headers.
    bare: { url: `${gatewayUrl}${BARE_ROUTE_PATH}`, headers: callbackHeaders, body: callbackBody },
    notifyVirtualCardChange: { url: `${gatewayUrl}${CALLBACK_PATH}`, headers: callbackHeaders, body: callbackBody },
    notifyTokenUpdate: {
      url: `${gatewayUrl}${TOKEN_UPDATE_PATH}`,
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'bench-ack-2', authorization: `APIKEY ${BENCH_TR_API_KEY}` },
      body: updateBody,
    },
  };
}

type AckTargetName = 'bare' | 'notifyVirtualCardChange' | 'notifyTokenUpdate';

/** Median over rounds: one round hit by a burst of background load does not move the figure. */
function medianFigures(runs: readonly AckFigures[]): AckFigures {
  const mid = (key: keyof AckFigures): number => median(runs.map((run) => run[key]));
  return {
    p50Ms: mid('p50Ms'),
    p99Ms: mid('p99Ms'),
    meanMs: mid('meanMs'),
    requestsPerSecond: mid('requestsPerSecond'),
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    failures: runs.reduce((sum, run) => sum + run.failures, 0),
  };
}

/**
 * A warm-up of every target first (first module load = cold start; JIT of the gateway, SDK and fauxqs: measured,
 * an unwarmed first run was 5× slower than the same run a minute later). Then `rounds` rounds over the three
 * targets, the order rotated each round, so drift and order hit baseline and webhooks alike; each figure is the
 * median over its rounds. No consumer runs (in AWS they are other Lambdas), and the queues are purged after every
 * run so each one sends to an equally empty queue.
 */
export async function ackPhase(
  service: ServiceProcess,
  options: { seconds: number; warmupSeconds: number; rounds: number; connections: number },
): Promise<AckPhase> {
  const targets = ackTargets(service.info.gatewayUrl);
  const order: AckTargetName[] = ['bare', 'notifyVirtualCardChange', 'notifyTokenUpdate'];
  const runs: Record<AckTargetName, AckFigures[]> = { bare: [], notifyVirtualCardChange: [], notifyTokenUpdate: [] };
  for (const name of order) {
    await measureAck(targets[name], options.warmupSeconds, options.connections);
    await service.purgeQueues();
  }
  for (let round = 0; round < options.rounds; round++) {
    for (let i = 0; i < order.length; i++) {
      const name = order[(i + round) % order.length]!;
      runs[name].push(await measureAck(targets[name], options.seconds, options.connections));
      await service.purgeQueues();
    }
  }
  return {
    baselineRuns: runs.bare,
    baseline: medianFigures(runs.bare),
    notifyVirtualCardChange: medianFigures(runs.notifyVirtualCardChange),
    notifyTokenUpdate: medianFigures(runs.notifyTokenUpdate),
  };
}

// ------------------------------------------------------------------------------------------------------------
// 2. Pipeline: deliveries through a webhook until a consumer has processed every one

export interface PipelineRun {
  deliveries: number;
  /** Sum over the run's chunks of first send → last message processed. */
  seconds: number;
  perSecond: number;
  lagP50Ms: number;
  lagP99Ms: number;
  counters: CounterReport;
  failures: string[];
  /** Send→processed per distinct callback (ms); dropped from latest.json. */
  lags: number[];
  /** Per callback identity: first 2xx answer at the client, and first processed by the consumer (epoch ms); dropped from latest.json. */
  accepted: Record<string, number>;
  applied: Record<string, number>;
}

export interface PipelineOptions {
  deliveries: readonly Delivery[];
  /** Send to the bare endpoint instead of each delivery's webhook. */
  bare: boolean;
  /** The consumer (handler name) whose processed messages end the run. */
  consumer: string;
  concurrency: number;
  timeoutMs: number;
  /**
   * Product runs: wait, before the counters are read, until the events of every change are published and delivered
   * (events out runs behind the pipeline; its work belongs to this run's counters, not to the next run's).
   */
  settleEvents: boolean;
}

/** Runs with the consumers already started (withConsumers): counters cover exactly this run. */
export async function runPipeline(service: ServiceProcess, options: PipelineOptions): Promise<PipelineRun> {
  await service.resetCounters();
  const sent = await sendAll(service.info.gatewayUrl, options.deliveries, options.concurrency, options.bare ? BARE_ROUTE_PATH : undefined);
  if (sent.failures.length > 0) {
    throw new Error(`${sent.failures.length} deliveries were not acknowledged with 2xx, e.g. ${sent.failures.slice(0, 3).join('; ')}`);
  }
  const total = options.deliveries.length;
  await waitFor(`${options.consumer} to process ${total} messages`, options.timeoutMs, async () => (await service.processed(options.consumer)) >= total);
  if (options.settleEvents) await service.eventsSettled(options.timeoutMs);
  const completions = await service.completions(options.consumer);
  const counters = await service.readCounters();
  const lags: number[] = [];
  const failures: string[] = [];
  for (const [key, sentAt] of sent.firstSent) {
    const doneAt = completions[key];
    if (doneAt === undefined) failures.push(`${key}: never processed`);
    else lags.push(doneAt - sentAt);
  }
  const lastDone = Math.max(...Object.values(completions));
  const seconds = (lastDone - sent.startedAt) / 1000;
  return {
    deliveries: total,
    seconds,
    perSecond: total / seconds,
    lagP50Ms: percentile(lags, 50),
    lagP99Ms: percentile(lags, 99),
    counters,
    failures,
    lags,
    accepted: Object.fromEntries(sent.firstAccepted),
    applied: completions,
  };
}

function mergeRuns(runs: readonly PipelineRun[]): PipelineRun {
  const deliveries = runs.reduce((sum, run) => sum + run.deliveries, 0);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  const lags = runs.flatMap((run) => run.lags);
  return {
    deliveries,
    seconds,
    perSecond: deliveries / seconds,
    lagP50Ms: percentile(lags, 50),
    lagP99Ms: percentile(lags, 99),
    counters: runs.reduce((sum, run) => addCounters(sum, run.counters), emptyCounters()),
    failures: runs.flatMap((run) => run.failures),
    lags,
    accepted: Object.assign({}, ...runs.map((run) => run.accepted)) as Record<string, number>,
    applied: Object.assign({}, ...runs.map((run) => run.applied)) as Record<string, number>,
  };
}

/**
 * The product and the baseline in alternating chunks (ABBA…): the background load of a shared machine comes in
 * bursts, and a burst then hits both sides instead of one. Both consumer sets run throughout (withConsumers).
 */
export async function runInterleaved(
  service: ServiceProcess,
  options: { product: Omit<PipelineOptions, 'deliveries'>; bare: Omit<PipelineOptions, 'deliveries'>; deliveries: readonly Delivery[]; chunks: number },
): Promise<{ product: PipelineRun; bare: PipelineRun }> {
  const size = Math.ceil(options.deliveries.length / options.chunks);
  const product: PipelineRun[] = [];
  const bare: PipelineRun[] = [];
  for (let chunk = 0; chunk < options.chunks; chunk++) {
    const deliveries = options.deliveries.slice(chunk * size, (chunk + 1) * size);
    if (deliveries.length === 0) break;
    const runProduct = () => runPipeline(service, { ...options.product, deliveries }).then((run) => product.push(run));
    const runBare = () => runPipeline(service, { ...options.bare, deliveries }).then((run) => bare.push(run));
    if (chunk % 2 === 0) {
      await runProduct();
      await runBare();
    } else {
      await runBare();
      await runProduct();
    }
  }
  return { product: mergeRuns(product), bare: mergeRuns(bare) };
}

/** Starts consumer sets (the product's, the bare one), runs `body`, stops them. */
export async function withConsumers<T>(service: ServiceProcess, sets: readonly ConsumerSet[], body: () => Promise<T>): Promise<T> {
  for (const set of sets) await service.startConsumers(set);
  try {
    return await body();
  } finally {
    await service.stopConsumers();
  }
}

export const CALLBACK_CONSUMER = 'apply-virtual-card-change';
export const TOKEN_UPDATE_CONSUMER = 'apply-token-update';
export const BARE_CONSUMER = BARE_APPLY_CONSUMER;

// ------------------------------------------------------------------------------------------------------------
// LCM operations end to end: back-office POST → d1-submitter → D1 simulator → callback → apply

export interface LcmRun {
  operations: number;
  seconds: number;
  perSecond: number;
  counters: CounterReport;
  created: { operationId: string; virtualCardId: string; state: string }[];
}

async function postJson(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Runs `task` over 0..count-1, `concurrency` at a time. */
export async function pool(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

/**
 * One TOKEN-scope SUSPEND per card of one token, with the product consumers running (withConsumers); ends when no
 * operation is open and nothing is in flight.
 */
export async function lcmPhase(
  service: ServiceProcess,
  table: DynamoDBDocumentClient,
  options: { operations: number; concurrency: number; timeoutMs: number },
): Promise<LcmRun> {
  const { gatewayUrl, simulatorUrl, tableName } = service.info;
  const cards = Array.from({ length: options.operations }, (_, i) => ({ issuerCardRefId: `lcm-card-${i}`, virtualCardId: `lcm-vc-${i}` }));
  await pool(cards.length, 8, async (i) => {
    const card = cards[i]!;
    const seeded = await postJson(`${simulatorUrl}/_sim/cards`, { issuerCardRefId: card.issuerCardRefId, tokens: [{ virtualCardId: card.virtualCardId }] });
    if (seeded.status !== 201) throw new Error(`seeding ${card.issuerCardRefId} in the simulator: HTTP ${seeded.status}`);
  });

  await service.resetCounters();
  const created: LcmRun['created'] = [];
  const started = now();
  await pool(cards.length, options.concurrency, async (i) => {
    const card = cards[i]!;
    const answer = await postJson(`${gatewayUrl}/v1/lcm-operations`, { action: 'SUSPEND', ...card });
    if (answer.status !== 202) throw new Error(`POST /v1/lcm-operations: HTTP ${answer.status} ${JSON.stringify(answer.json)}`);
    created.push({ operationId: String(answer.json.operationId), virtualCardId: card.virtualCardId, state: 'SUSPENDED' });
  });
  await waitFor('every LCM operation to be final', options.timeoutMs, async () => (await openOperations(table, tableName)) === 0);
  const seconds = (now() - started) / 1000;
  await service.idle(); // late D1 answers and deletes still count
  await service.eventsSettled(options.timeoutMs); // and the events of the operations and tokens
  const counters = await service.readCounters();
  return { operations: created.length, seconds, perSecond: created.length / seconds, counters, created };
}
