/** From the phases' raw results to the rows of the report (figure, baseline, ratio, target, verdict). */
import { isDynamoDbRead, isDynamoDbWrite, total } from './counters';
import { ASSUMED_D1_ROUND_TRIP_MS, costOf, usageFrom, type CostBreakdown, type Usage } from './cost';
import type { AckFigures } from './load';
import type { AckPhase, LcmRun, PipelineRun } from './phases';
import { PRICES, TARGET_USD_PER_MILLION_CALLBACKS } from './prices';
import { countersOf, EVENT_DELIVERY_CONSUMER, EVENT_PUBLISHER, EVENTS_OUT_HANDLERS, type CounterReport } from './protocol';
import type { EventLag } from './events-out';
import type { JobRun } from './jobs';
import { atLeast, atMost, type Row } from './report';
import { ratio } from './stats';

/** The Powertools idempotency utility around a handler: conditional put (INPROGRESS) + update (COMPLETED) + the business write. */
const POWERTOOLS_WRITES_PER_CALLBACK = 3;
/** Its two bookkeeping writes are small items: 1 WRU each, on top of the business write. */
const POWERTOOLS_EXTRA_WRU = 2;

// ------------------------------------------------------------------------------------------------------------
// 1. Ack latency

function ackRows(name: string, figures: AckFigures, baseline: AckFigures): Row[] {
  const section = '1. Webhook ack latency, 32 clients (baseline: bare endpoint, one SendMessage)';
  const p50 = ratio(figures.p50Ms, baseline.p50Ms);
  const p99 = ratio(figures.p99Ms, baseline.p99Ms);
  const failures = figures.failures > 0 ? `${figures.failures} non-2xx/errors under load` : undefined;
  return [
    {
      section,
      metric: `${name} p50`,
      value: figures.p50Ms,
      unit: 'ms',
      baseline: baseline.p50Ms,
      ratio: p50,
      target: 'ratio ≤ 1.5',
      verdict: atMost(p50, 1.5),
      ...(failures ? { note: failures } : {}),
    },
    {
      section,
      metric: `${name} p99`,
      value: figures.p99Ms,
      unit: 'ms',
      baseline: baseline.p99Ms,
      ratio: p99,
      target: 'ratio ≤ 1.5',
      verdict: atMost(p99, 1.5),
    },
    {
      section,
      metric: `${name} throughput`,
      value: figures.requestsPerSecond,
      unit: 'req/s',
      baseline: baseline.requestsPerSecond,
      ratio: ratio(figures.requestsPerSecond, baseline.requestsPerSecond),
    },
  ];
}

export function latencyRows(ack: AckPhase): Row[] {
  return [
    ...ackRows('notifyVirtualCardChange', ack.notifyVirtualCardChange, ack.baseline),
    ...ackRows('notify-token-update', ack.notifyTokenUpdate, ack.baseline),
  ];
}

// ------------------------------------------------------------------------------------------------------------
// 2. Pipeline

export function pipelineRows(product: PipelineRun, bare: PipelineRun, tokenUpdates: PipelineRun, verified: { tokens: number; mismatches: number }): Row[] {
  const section = `2. Pipeline, ${product.deliveries} callbacks (10 % duplicates, shuffled) until applied (baseline: bare I/O)`;
  const throughput = ratio(product.perSecond, bare.perSecond);
  return [
    {
      section,
      metric: 'callbacks applied per second',
      value: product.perSecond,
      unit: '/s',
      baseline: bare.perSecond,
      ratio: throughput,
      target: 'ratio ≥ 0.7',
      verdict: atLeast(throughput, 0.7),
    },
    { section, metric: 'send→applied lag p50', value: product.lagP50Ms, unit: 'ms', baseline: bare.lagP50Ms, ratio: ratio(product.lagP50Ms, bare.lagP50Ms) },
    { section, metric: 'send→applied lag p99', value: product.lagP99Ms, unit: 'ms', baseline: bare.lagP99Ms, ratio: ratio(product.lagP99Ms, bare.lagP99Ms) },
    {
      section,
      metric: 'token updates applied per second',
      value: tokenUpdates.perSecond,
      unit: '/s',
      baseline: bare.perSecond,
      ratio: ratio(tokenUpdates.perSecond, bare.perSecond),
      note: `${tokenUpdates.deliveries} notify-token-update deliveries; the baseline is the callbacks' bare pipeline (a transaction per message, heavier than one UpdateItem)`,
    },
    ...cpuRows(section, product, bare),
    {
      section,
      metric: 'tokens in the expected end state',
      value: verified.tokens - verified.mismatches,
      unit: `of ${verified.tokens.toLocaleString('en-US')}`,
      target: 'all',
      verdict: verified.mismatches === 0 ? 'PASS' : 'MISS',
    },
  ];
}

/** Where the time goes on this machine: CPU per callback in the service process and in DynamoDB Local. */
function cpuRows(section: string, product: PipelineRun, bare: PipelineRun): Row[] {
  const perCallback = (run: PipelineRun, key: 'service' | 'dynamoDbLocal'): number => (run.counters.cpuMs[key] ?? Number.NaN) / run.deliveries;
  const service = perCallback(product, 'service');
  const ddb = perCallback(product, 'dynamoDbLocal');
  return [
    {
      section,
      metric: 'CPU per callback: service process',
      value: service,
      unit: 'ms',
      baseline: perCallback(bare, 'service'),
      ratio: ratio(service, perCallback(bare, 'service')),
      note: 'gateway, handlers, pollers and fauxqs share one event loop here: their CPU per callback bounds local throughput',
    },
    {
      section,
      metric: 'CPU per callback: DynamoDB Local',
      value: ddb,
      unit: 'ms',
      baseline: perCallback(bare, 'dynamoDbLocal'),
      ratio: ratio(ddb, perCallback(bare, 'dynamoDbLocal')),
    },
  ];
}

// ------------------------------------------------------------------------------------------------------------
// Events out vs the callback pipeline: the same run's counters, split by the handler that made each request

const isEventsOut = (handler: string): boolean => EVENTS_OUT_HANDLERS.includes(handler);
/** The callback pipeline alone (webhooks, consumers, the bench's own requests): what sections 3 and 4 measured before events out. */
export const pipelineCounters = (counters: CounterReport): CounterReport => countersOf(counters, (handler) => !isEventsOut(handler));
/** The publisher and the webhook deliveries only. */
export const eventsOutCounters = (counters: CounterReport): CounterReport => countersOf(counters, isEventsOut);
/** Events the publisher handed to the log (one conditional PutItem per event and publication): what a bus would get. */
const eventsPublished = (counters: CounterReport): number => counters.sdk.byHandler[EVENT_PUBLISHER]?.dynamodb.PutItem?.requests ?? 0;
/** Events the log gained (the conditional puts that succeeded). */
export const eventsLogged = (counters: CounterReport): number => {
  const puts = counters.sdk.byHandler[EVENT_PUBLISHER]?.dynamodb.PutItem;
  return puts ? puts.requests - Object.values(puts.failures).reduce((sum, n) => sum + n, 0) : 0;
};

// ------------------------------------------------------------------------------------------------------------
// 3. Requests per callback

interface PerUnit {
  writes: number;
  reads: number;
  wru: number;
  rru: number;
  localWru: number;
  sqs: number;
}

function perUnit(counters: CounterReport, units: number): PerUnit {
  const { dynamodb } = counters.sdk;
  const usage = usageFrom(counters, units);
  return {
    writes: total(dynamodb, 'requests', isDynamoDbWrite) / units,
    reads: total(dynamodb, 'requests', isDynamoDbRead) / units,
    wru: total(dynamodb, 'wru', isDynamoDbWrite) / units,
    rru: total(dynamodb, 'rru') / units,
    localWru: total(dynamodb, 'localCapacity', isDynamoDbWrite) / units,
    sqs: usage.sqsRequests,
  };
}

export interface RequestFigures {
  perApplied: PerUnit;
  perDuplicate: PerUnit;
  perDelivery: PerUnit;
  /** Transactions beyond one per delivery (version-guarded writes that lost a race), per applied callback. */
  conflictRetriesPerApplied: number;
  bare: PerUnit;
  tokenUpdate: PerUnit;
  lcm: PerUnit;
  /** The publisher and the deliveries per applied callback, together and each. */
  eventsOut: {
    perApplied: PerUnit;
    publisher: PerUnit;
    delivery: PerUnit;
    eventsPerApplied: number;
    publisherInvocationsPerApplied: number;
    deliveriesPerApplied: number;
    deliveryInvocationsPerApplied: number;
  };
}

/**
 * Counted on the callback pipeline's handlers only (webhooks and consumers; events out is reported beside it).
 * Per applied callback = (pipeline total − duplicates × per-duplicate) / distinct callbacks, where per-duplicate
 * comes from a pass that re-sends already-applied callbacks only. Conflict retries (a version-guarded write that
 * lost a race with a concurrent callback for the same token) are the transactions beyond one per delivery.
 */
export function requestFigures(
  product: PipelineRun,
  distinct: number,
  duplicatesRun: PipelineRun,
  bare: PipelineRun,
  tokenUpdates: PipelineRun,
  lcm: LcmRun,
): RequestFigures {
  const all = perUnit(pipelineCounters(product.counters), product.deliveries);
  const perDuplicate = perUnit(pipelineCounters(duplicatesRun.counters), duplicatesRun.deliveries);
  const duplicates = product.deliveries - distinct;
  const applied = Object.fromEntries(
    (Object.keys(all) as (keyof PerUnit)[]).map((key) => [key, (all[key] * product.deliveries - perDuplicate[key] * duplicates) / distinct]),
  ) as unknown as PerUnit;
  const transactions = pipelineCounters(product.counters).sdk.dynamodb.TransactWriteItems?.requests ?? 0;
  // Duplicates commit nothing, so nothing of theirs reaches the stream: events out's work is all the applied callbacks'.
  const eventsOut = eventsOutCounters(product.counters);
  const byHandler = (handler: string) =>
    perUnit(
      countersOf(eventsOut, (h) => h === handler),
      distinct,
    );
  return {
    perApplied: applied,
    perDuplicate,
    perDelivery: all,
    conflictRetriesPerApplied: (transactions - product.deliveries) / distinct,
    bare: perUnit(bare.counters, bare.deliveries),
    tokenUpdate: perUnit(pipelineCounters(tokenUpdates.counters), tokenUpdates.deliveries),
    lcm: perUnit(pipelineCounters(lcm.counters), lcm.operations),
    eventsOut: {
      perApplied: perUnit(eventsOut, distinct),
      publisher: byHandler(EVENT_PUBLISHER),
      delivery: byHandler(EVENT_DELIVERY_CONSUMER),
      eventsPerApplied: eventsPublished(product.counters) / distinct,
      publisherInvocationsPerApplied: (eventsOut.handlers[EVENT_PUBLISHER]?.invocations ?? 0) / distinct,
      deliveriesPerApplied: (eventsOut.handlers[EVENT_DELIVERY_CONSUMER]?.records ?? 0) / distinct,
      deliveryInvocationsPerApplied: (eventsOut.handlers[EVENT_DELIVERY_CONSUMER]?.invocations ?? 0) / distinct,
    },
  };
}

export function requestRows(figures: RequestFigures): Row[] {
  const section = '3. Requests per callback (SDK middleware counters; baseline: bare I/O)';
  const { perApplied: applied, perDuplicate: duplicate, bare } = figures;
  const firstAttemptWrites = applied.writes - figures.conflictRetriesPerApplied;
  return [
    {
      section,
      metric: 'DynamoDB write requests / applied callback',
      value: firstAttemptWrites,
      unit: '',
      baseline: bare.writes,
      ratio: ratio(firstAttemptWrites, bare.writes),
      target: '= 1',
      verdict: atMost(firstAttemptWrites, 1),
      note: `first attempts; plus ${figures.conflictRetriesPerApplied.toFixed(3)} conflict retries per applied callback under shuffled 32-way load (same-token races)`,
    },
    {
      section,
      metric: 'WRU / applied callback (AWS rules)',
      value: applied.wru,
      unit: 'WRU',
      baseline: bare.wru,
      ratio: ratio(applied.wru, bare.wru),
      target: '≤ 4',
      verdict: atMost(applied.wru, 4),
      note:
        'transaction: event 2 + token 2 = 4 for a callback on a known token; the one that creates a token adds its gsi1 entry (1), as does ' +
        "a conflict retry's transaction; gsi1 projects keys + issuerCardRefId only, so state changes never rewrite it, and history needs no LSI. " +
        'This workload creates every token by a callback (tokens ÷ applied callbacks = the excess over 4)',
    },
    {
      section,
      metric: 'WRU / applied callback (DynamoDB Local reported)',
      value: applied.localWru,
      unit: 'WRU',
      note: "DynamoDB Local's own accounting: inconsistent for transactions (2 units for two small puts, 8 with index keys), none for failures; comparison only",
    },
    {
      section,
      metric: 'DynamoDB reads / applied callback',
      value: applied.reads,
      unit: '',
      baseline: bare.reads,
      note: `${applied.rru.toFixed(2)} RRU; one consistent read: the token, and with it the operation its x-correlation-id names when that id has our operation ids' shape (else the token alone)`,
    },
    { section, metric: 'SQS requests / applied callback', value: applied.sqs, unit: '', baseline: bare.sqs, ratio: ratio(applied.sqs, bare.sqs) },
    {
      section,
      metric: 'DynamoDB write requests / duplicate',
      value: duplicate.writes,
      unit: '',
      note: `${duplicate.wru.toFixed(2)} WRU (a cancelled transaction, assumed billed like a successful one), ${duplicate.reads.toFixed(2)} reads, ${duplicate.sqs.toFixed(2)} SQS requests`,
    },
    {
      section,
      metric: 'Powertools idempotency pattern: writes / callback',
      value: POWERTOOLS_WRITES_PER_CALLBACK,
      unit: '',
      baseline: firstAttemptWrites,
      ratio: ratio(POWERTOOLS_WRITES_PER_CALLBACK, firstAttemptWrites),
      note: `computed: conditional put + update + the business write = 3 writes, ≈ ${(applied.wru + POWERTOOLS_EXTRA_WRU).toFixed(1)} WRU with ours as the business write; baseline column = ours`,
    },
    {
      section,
      metric: 'token update: DynamoDB writes / delivery',
      value: figures.tokenUpdate.writes,
      unit: '',
      note: `${figures.tokenUpdate.wru.toFixed(2)} WRU, ${figures.tokenUpdate.reads.toFixed(2)} reads per delivery (duplicates and stale updates write nothing)`,
    },
    {
      section,
      metric: 'LCM operation: DynamoDB writes / operation',
      value: figures.lcm.writes,
      unit: '',
      note: `${figures.lcm.wru.toFixed(2)} WRU, ${figures.lcm.reads.toFixed(2)} reads, ${figures.lcm.sqs.toFixed(2)} SQS requests per TOKEN-scope operation, its callback included`,
    },
  ];
}

// ------------------------------------------------------------------------------------------------------------
// 4. Cost

export interface CostFigures {
  /** The callback pipeline alone, as before events out. */
  callback: { usage: Usage; cost: CostBreakdown };
  /** What events out adds per callback: publisher, deliveries, EventBridge. */
  eventsOut: { usage: Usage; cost: CostBreakdown };
  lcm: { usage: Usage; cost: CostBreakdown };
  lcmEventsOut: { usage: Usage; cost: CostBreakdown };
}

/**
 * Per callback delivered (duplicates included), like the pipeline's cost. Events out: the publisher's and the
 * deliveries' Lambda invocations and GB-s (same model: mean measured wall time × memory), their DynamoDB units and
 * SQS requests (sends, and the deliveries' event-source receives and deletes), one EventBridge event per event
 * published; stream reads are free.
 */
export function costFigures(product: PipelineRun, lcm: LcmRun): CostFigures {
  const priced = (usage: Usage) => ({ usage, cost: costOf(usage) });
  const d1 = { 'd1-submitter': ASSUMED_D1_ROUND_TRIP_MS };
  return {
    callback: priced(usageFrom(pipelineCounters(product.counters), product.deliveries)),
    eventsOut: priced(usageFrom(eventsOutCounters(product.counters), product.deliveries, {}, eventsPublished(product.counters))),
    lcm: priced(usageFrom(pipelineCounters(lcm.counters), lcm.operations, d1)),
    lcmEventsOut: priced(usageFrom(eventsOutCounters(lcm.counters), lcm.operations, {}, eventsPublished(lcm.counters))),
  };
}

/** $ per million units for `wru` write request units per unit. */
const wruCost = (wru: number): number => wru * PRICES.dynamoDbWriteRequestUnit.usd * 1e6;

/** What each subscriber response time of 100 ms would add to the deliveries' GB-s, $ per million units. */
function subscriberWaitCost(usage: Usage): number {
  const delivery = usage.lambdas.find((lambda) => lambda.handler === EVENT_DELIVERY_CONSUMER);
  return delivery ? delivery.invocations * 0.1 * (delivery.memoryMb / 1024) * PRICES.lambdaArmGbSecond.usd * 1e6 : 0;
}

export function costRows(figures: CostFigures): Row[] {
  const section = '4. Cost, us-east-1 list prices (bench/prices.ts)';
  const { callback, eventsOut, lcm, lcmEventsOut } = figures;
  const breakdown = (prefix: string, cost: CostBreakdown): Row[] =>
    cost.lines.filter((line) => line.quantity > 0).map((line) => ({ section, metric: `${prefix}${line.item}`, value: line.usdPerMillion, unit: '$' }));
  const total = callback.cost.usdPerMillion + eventsOut.cost.usdPerMillion;
  return [
    {
      section,
      metric: 'per million callbacks',
      value: callback.cost.usdPerMillion,
      unit: '$',
      target: `≤ $${TARGET_USD_PER_MILLION_CALLBACKS}`,
      verdict: atMost(callback.cost.usdPerMillion, TARGET_USD_PER_MILLION_CALLBACKS),
      note:
        `the callback pipeline (webhook, SQS, apply, DynamoDB), events out not included (next rows); as measured with 10 % duplicates; ` +
        `DynamoDB writes are ${Math.round((100 * wruCost(callback.usage.wru)) / callback.cost.usdPerMillion)} % of it, ` +
        `$${(callback.cost.usdPerMillion - wruCost(callback.usage.wru - 4)).toFixed(2)} at 4 WRU per callback; ` +
        `excludes CloudWatch Logs (${Math.round(callback.usage.logBytes)} bytes of logs per callback, events out's included), X-Ray, data transfer, Lambda INIT`,
    },
    ...breakdown('  ', callback.cost),
    {
      section,
      metric: 'added per million callbacks (events out)',
      value: eventsOut.cost.usdPerMillion,
      unit: '$',
      baseline: callback.cost.usdPerMillion,
      ratio: ratio(eventsOut.cost.usdPerMillion, callback.cost.usdPerMillion),
      note:
        `publisher (table stream) + one webhook delivery per event to one subscription + EventBridge per event; baseline column = the pipeline's cost; ` +
        `deliveries timed against a local receiver answering in ~1 ms: each 100 ms a real subscriber takes to answer adds $${subscriberWaitCost(eventsOut.usage).toFixed(2)}; ` +
        `stream reads (GetRecords by Lambda) are free; each further subscription adds its deliveries`,
    },
    ...breakdown('  ', eventsOut.cost),
    {
      section,
      metric: 'total per million callbacks (with events out)',
      value: total,
      unit: '$',
      target: `≤ $${TARGET_USD_PER_MILLION_CALLBACKS}`,
      verdict: atMost(total, TARGET_USD_PER_MILLION_CALLBACKS),
    },
    {
      section,
      metric: 'per million LCM operations',
      value: lcm.cost.usdPerMillion,
      unit: '$',
      note:
        `TOKEN scope, one callback each; d1-submitter duration includes an assumed ${ASSUMED_D1_ROUND_TRIP_MS} ms D1 round trip; ${Math.round(lcm.usage.logBytes)} bytes of logs per operation; ` +
        `events out adds $${lcmEventsOut.cost.usdPerMillion.toFixed(2)} (token.state_changed and operation.completed)`,
    },
    ...breakdown('  ', lcm.cost),
  ];
}

// ------------------------------------------------------------------------------------------------------------
// 5. Events out

export function eventsOutRows(lag: EventLag, requests: RequestFigures): Row[] {
  const section = '5. Events out: table stream → publisher → webhook-deliveries → subscriber (same run, same callbacks)';
  const { eventsOut } = requests;
  const perCallback = (value: number): string => value.toFixed(3);
  return [
    {
      section,
      metric: 'event lag p50 (callback accepted → webhook received)',
      value: lag.eventP50Ms,
      unit: 'ms',
      baseline: lag.pipelineP50Ms,
      ratio: ratio(lag.eventP50Ms, lag.pipelineP50Ms),
      note:
        `baseline: callback pipeline lag p50 (accepted → applied) of the ${lag.callbacks} callbacks whose change published an event; ` +
        `accepted = first 2xx at the load generator; events out adds ${lag.addedP50Ms.toFixed(0)} ms p50 / ${lag.addedP99Ms.toFixed(0)} ms p99 after applied`,
    },
    {
      section,
      metric: 'event lag p99 (callback accepted → webhook received)',
      value: lag.eventP99Ms,
      unit: 'ms',
      baseline: lag.pipelineP99Ms,
      ratio: ratio(lag.eventP99Ms, lag.pipelineP99Ms),
      note: 'baseline: callback pipeline lag p99 (accepted → applied), same callbacks',
    },
    {
      section,
      metric: 'token events received, matched to their callback',
      value: lag.matched,
      unit: `of ${lag.logged.toLocaleString('en-US')} logged`,
      target: 'all',
      verdict: lag.matched === lag.logged && lag.received === lag.matched ? 'PASS' : 'MISS',
      note: `${perCallback(eventsOut.eventsPerApplied)} events per applied callback; ${lag.received} received for the run's tokens (signature verified), ${lag.unmatched.length} not matched`,
    },
    {
      section,
      metric: 'events out: DynamoDB writes / applied callback',
      value: eventsOut.perApplied.writes,
      unit: '',
      note:
        `${eventsOut.perApplied.wru.toFixed(2)} WRU (event log PutItem + its gsi2 entry, projection ALL); publisher ${perCallback(eventsOut.publisher.writes)} writes, ` +
        `deliveries ${perCallback(eventsOut.delivery.writes)}`,
    },
    {
      section,
      metric: 'events out: DynamoDB reads / applied callback',
      value: eventsOut.perApplied.reads,
      unit: '',
      note:
        `${eventsOut.perApplied.rru.toFixed(2)} RRU; publisher ${perCallback(eventsOut.publisher.reads)} (the subscriptions, one consistent Query per change with events), ` +
        `deliveries ${perCallback(eventsOut.delivery.reads)} (the subscription and its secret per delivery)`,
    },
    {
      section,
      metric: 'events out: SQS requests / applied callback',
      value: eventsOut.perApplied.sqs,
      unit: '',
      note: `publisher sends ${perCallback(eventsOut.publisher.sqs)}; deliveries ${perCallback(eventsOut.delivery.sqs)} (event-source receives and deletes, retries)`,
    },
    {
      section,
      metric: 'events out: Lambda invocations / applied callback',
      value: eventsOut.publisherInvocationsPerApplied + eventsOut.deliveryInvocationsPerApplied,
      unit: '',
      note:
        `publisher ${perCallback(eventsOut.publisherInvocationsPerApplied)} (stream batches of ≤ 100 records, sized by how fast the local poller reads), ` +
        `deliver-webhook ${perCallback(eventsOut.deliveryInvocationsPerApplied)} (batches of ≤ 10 of ${perCallback(eventsOut.deliveriesPerApplied)} deliveries)`,
    },
  ];
}

// ------------------------------------------------------------------------------------------------------------
// 3b. Steady state: the tokens known before the callbacks arrive (production's case)

/** Target cost per million callbacks on known tokens: the same ceiling as the main workload's. */
const STEADY_STATE_TARGET_USD = TARGET_USD_PER_MILLION_CALLBACKS;

/**
 * The main workload creates every token by a callback, so its mean WRU carries the creations' gsi1 entries. Here
 * the same pipeline first learns the tokens (one ACTIVATE each: every callback creates a token), then takes one
 * RENEW per known token (no duplicates, no two callbacks on one token at once): the two costs apart.
 */
export function steadyStateRows(learnt: PipelineRun, steady: PipelineRun): Row[] {
  const section = '3b. Steady state (tokens known before the callbacks; baseline: the main workload)';
  const creating = perUnit(pipelineCounters(learnt.counters), learnt.deliveries);
  const known = perUnit(pipelineCounters(steady.counters), steady.deliveries);
  const pipelineCost = costOf(usageFrom(pipelineCounters(steady.counters), steady.deliveries)).usdPerMillion;
  const eventsOutCost = costOf(usageFrom(eventsOutCounters(steady.counters), steady.deliveries, {}, eventsPublished(steady.counters))).usdPerMillion;
  return [
    {
      section,
      metric: 'WRU / callback creating a token',
      value: creating.wru,
      unit: 'WRU',
      note: 'ACTIVATE of an unknown token: event 2 + token 2 (a transaction doubles) + its gsi1 entry 1 = 5',
    },
    {
      section,
      metric: 'WRU / applied callback on a known token',
      value: known.wru,
      unit: 'WRU',
      target: '4.0',
      verdict: Math.abs(known.wru - 4) < 0.005 ? 'PASS' : 'MISS',
      note: 'event 2 + token 2; a state change never rewrites gsi1 (it projects keys + issuerCardRefId only)',
    },
    {
      section,
      metric: 'callbacks applied per second (known tokens)',
      value: steady.perSecond,
      unit: '/s',
      baseline: learnt.perSecond,
      ratio: ratio(steady.perSecond, learnt.perSecond),
    },
    {
      section,
      metric: 'per million callbacks on known tokens',
      value: pipelineCost,
      unit: '$',
      target: `≤ $${STEADY_STATE_TARGET_USD}`,
      verdict: atMost(pipelineCost, STEADY_STATE_TARGET_USD),
      note: 'the callback pipeline only, as in section 4',
    },
    {
      section,
      metric: 'per million callbacks on known tokens, with events out',
      value: pipelineCost + eventsOutCost,
      unit: '$',
      target: `≤ $${STEADY_STATE_TARGET_USD}`,
      verdict: atMost(pipelineCost + eventsOutCost, STEADY_STATE_TARGET_USD),
      note: `events out adds $${eventsOutCost.toFixed(2)} (one token.renewed per callback, one subscription)`,
    },
  ];
}

// ------------------------------------------------------------------------------------------------------------
// 7. Bulk job

/** The pace a job of N cards should keep: within 10 % of the floor N / D1_MAX_TPS. */
const JOB_WALL_TARGET_RATIO = 1.1;

export interface JobFigures {
  /** The job's own work: API, job runner, bulk submitter, callbacks, pacer (events out beside it). */
  perCard: PerUnit;
  cost: { usage: Usage; cost: CostBreakdown };
  eventsOutCost: { usage: Usage; cost: CostBreakdown };
}

export function jobFigures(job: JobRun): JobFigures {
  const d1 = { 'd1-bulk-submitter': ASSUMED_D1_ROUND_TRIP_MS };
  const usage = usageFrom(pipelineCounters(job.counters), job.cards, d1);
  const eventsOut = usageFrom(eventsOutCounters(job.counters), job.cards, {}, eventsPublished(job.counters));
  return {
    perCard: perUnit(pipelineCounters(job.counters), job.cards),
    cost: { usage, cost: costOf(usage) },
    eventsOutCost: { usage: eventsOut, cost: costOf(eventsOut) },
  };
}

/** DynamoDB requests per second of a run, every handler's (events out included). */
const dynamoDbRate = (counters: CounterReport, seconds: number): number => total(counters.sdk.dynamodb, 'requests') / seconds;

export function jobRows(job: JobRun, figures: JobFigures, pipeline: PipelineRun): Row[] {
  const section = `7. Bulk job: SUSPEND ${job.cards.toLocaleString('en-US')} cards of one token each, D1_MAX_TPS = ${job.maxTps} (baseline: the floor N / D1_MAX_TPS)`;
  const wallRatio = ratio(job.seconds, job.floorSeconds);
  const { perCard, cost, eventsOutCost } = figures;
  return [
    {
      section,
      metric: 'wall time, start → COMPLETED',
      value: job.seconds,
      unit: 's',
      baseline: job.floorSeconds,
      ratio: wallRatio,
      target: `≤ ${JOB_WALL_TARGET_RATIO}× floor`,
      verdict: atMost(wallRatio, JOB_WALL_TARGET_RATIO),
      note: `${(job.cards / job.seconds).toFixed(0)} cards/s; COMPLETED = every card's operation final (its callback applied); D1 answers at once (simulator)`,
    },
    {
      section,
      metric: 'updateCardState calls in any sliding 1-s window, most',
      value: job.maxCallsInAnySecond,
      unit: 'calls',
      target: `≤ ${job.maxTps}`,
      verdict: atMost(job.maxCallsInAnySecond, job.maxTps),
      note:
        `as the D1 simulator received them; ${job.d1Calls.toLocaleString('en-US')} calls for ${job.cards.toLocaleString('en-US')} cards, ` +
        `${(job.d1Calls / Math.max(job.d1SpanSeconds, 1e-3)).toFixed(0)} per second from the first to the last`,
    },
    {
      section,
      metric: 'DynamoDB Local requests per second during the job',
      value: dynamoDbRate(job.counters, job.seconds),
      unit: '/s',
      note:
        `every handler's, events out included; the job at D1_MAX_TPS would need ≈ ${Math.round((total(job.counters.sdk.dynamodb, 'requests') / job.cards) * job.maxTps)} /s; ` +
        `the pipeline of section 2 drove ${Math.round(dynamoDbRate(pipeline.counters, pipeline.seconds))} /s in this run`,
    },
    {
      section,
      metric: 'DynamoDB requests / card',
      value: perCard.writes + perCard.reads,
      unit: '',
      note:
        `${perCard.writes.toFixed(2)} writes (${perCard.wru.toFixed(2)} WRU), ${perCard.reads.toFixed(2)} reads (${perCard.rru.toFixed(2)} RRU): ` +
        `job items, the card's operation, the D1 pace counters, the callback; events out not included`,
    },
    {
      section,
      metric: 'SQS requests / card',
      value: perCard.sqs,
      unit: '',
      note: 'sends, receives and deletes of lcm-jobs, d1-bulk-requests and issuer-callbacks',
    },
    {
      section,
      metric: '$ per 1 000 cards',
      value: cost.cost.usdPerMillion / 1000,
      unit: '$',
      note:
        `Lambda, API, SQS, DynamoDB; d1-bulk-submitter duration includes an assumed ${ASSUMED_D1_ROUND_TRIP_MS} ms D1 round trip; ` +
        `events out adds $${(eventsOutCost.cost.usdPerMillion / 1000).toFixed(3)} per 1 000 cards`,
    },
  ];
}
