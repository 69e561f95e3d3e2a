/**
 * The service process of the bench: `npm start`'s stack (local/dev.ts) — DynamoDB Local, fauxqs, the
 * tables and queues of lambdas/topology.ts, the gateway in front of the real handler modules, the SQS pollers and
 * the D1 simulator — plus what only the bench needs:
 *
 * - a bare endpoint on the same gateway (one SQS SendMessage, nothing else) and a bare consumer (one
 *   TransactWriteItems per message) on a second, prefixed table and queue: the baselines;
 * - SDK counters registered through the adapters' client hooks, and timing/ESM counters around every handler;
 * - an RPC channel (bench/rpc.ts) through which bench/run.ts drives it.
 *
 * Started by bench/run.ts with `node --import tsx`; never on its own.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { PurgeQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBBatchResponse, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { UNTRACED } from '../lambdas/adapters/client-tracing';
import { documentClient, setDynamoDbClientHook } from '../lambdas/adapters/dynamodb-client';
import { setSqsClientHook, sqsClient } from '../lambdas/adapters/sqs-queue';
import type { HttpHandler } from '../lambdas/http/route';
import { loadHandlerModule, type HandlerLoader } from '../local/gateway';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provisionResources, startLocalAws, type LocalAwsEngines, type ProvisionedResources } from '../local/local-aws';
import { freePort } from '../local/ports';
import { startLocalService, type LocalService } from '../local/service';
import type { SqsHandler } from '../local/sqs-poller';
import type { StreamHandler } from '../local/stream-poller';
import { startD1Simulator, type D1Simulator } from '../local/d1-simulator';
import { HTTP_ROUTES, QUEUE_CONSUMERS, type HandlerName, type HttpRoute, type QueueConsumer } from '../lambdas/topology';
import { attributeTo, countDynamoDbRequests, countSqsRequests, resetSdkCounts, sdkCounts } from './counters';
import {
  BARE_APPLY_CONSUMER,
  BARE_ROUTE_PATH,
  BENCH_ISSUER_ID,
  benchD1MaxTps,
  BENCH_TR_API_KEY,
  CALLBACK_CONSUMERS,
  callbackKey,
  EVENT_DELIVERY_CONSUMER,
  EVENT_PUBLISHER,
  type ConsumerSet,
  type CounterReport,
  type InvocationKind,
  type InvocationStats,
  type PeakMemory,
  type ServiceInfo,
} from './protocol';
import { serveRpc } from './rpc';

/** Bench-only handler names: the gateway and pollers accept any name their loaders understand. */
const BARE_ENQUEUE = 'bench-bare-enqueue' as HandlerName;
const BARE_APPLY = BARE_APPLY_CONSUMER as HandlerName;
const BARE_ROUTE: HttpRoute = { api: 'webhooks', method: 'POST', path: BARE_ROUTE_PATH, handler: BARE_ENQUEUE, auth: 'none' };

// ------------------------------------------------------------------------------------------------------------
// Counters the handler wrappers keep (the SDK ones live in bench/counters.ts)

let handlerStats: Record<string, InvocationStats> = {};
/** Per consumer: when each callback identity was first processed successfully (epoch ms), and how many messages. */
let completions = new Map<string, Map<string, number>>();
let processed = new Map<string, number>();
let logBytes = 0;
let cpuAtReset = { service: process.cpuUsage(), javaTicks: null as number | null };

const nowMs = (): number => performance.timeOrigin + performance.now();

function statsFor(name: string, kind: InvocationKind): InvocationStats {
  handlerStats[name] ??= { kind, invocations: 0, totalMs: 0, records: 0, receives: 0, deletes: 0 };
  return handlerStats[name];
}

/** user + system clock ticks of a process (Linux /proc; null elsewhere). */
function processTicks(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  } catch {
    return null;
  }
}

/** Linux USER_HZ, the unit of /proc/<pid>/stat times. */
const TICK_MS = 10;

function resetCounters(javaPid: number | undefined): void {
  resetSdkCounts();
  handlerStats = {};
  completions = new Map();
  processed = new Map();
  logBytes = 0;
  cpuAtReset = { service: process.cpuUsage(), javaTicks: processTicks(javaPid) };
}

function cpuSinceReset(javaPid: number | undefined): CounterReport['cpuMs'] {
  const service = process.cpuUsage(cpuAtReset.service);
  const javaTicks = processTicks(javaPid);
  return {
    service: (service.user + service.system) / 1000,
    dynamoDbLocal: javaTicks === null || cpuAtReset.javaTicks === null ? null : (javaTicks - cpuAtReset.javaTicks) * TICK_MS,
  };
}

/** Counts what the handlers log without keeping it in memory: the log file is for reading after a failure. */
function countStdout(): void {
  const write = process.stdout.write.bind(process.stdout) as (chunk: unknown, ...rest: unknown[]) => boolean;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    logBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).byteLength;
    return write(chunk, ...rest);
  }) as typeof process.stdout.write;
}

function timedHttp(name: string, handler: HttpHandler): HttpHandler {
  return async (event, context) => {
    const started = performance.now();
    try {
      return await attributeTo(name, () => handler(event, context));
    } finally {
      const stats = statsFor(name, 'http');
      stats.invocations += 1;
      stats.totalMs += performance.now() - started;
    }
  };
}

/**
 * Around a consumer: its duration, the batch, the event source's requests (one ReceiveMessage per non-empty
 * batch, one DeleteMessageBatch when anything succeeded — what local/sqs-poller.ts does and what AWS
 * bills), and when each record was first processed (send→applied lag).
 */
function timedConsumer(name: string, handler: SqsHandler, trackCompletions: boolean): SqsHandler {
  return async (event, context) => {
    const stats = statsFor(name, 'sqs');
    const started = performance.now();
    stats.invocations += 1;
    stats.receives += 1;
    stats.records += event.Records.length;
    let response: SQSBatchResponse | void;
    try {
      response = await attributeTo(name, () => handler(event, context));
    } finally {
      stats.totalMs += performance.now() - started;
    }
    const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    const done = event.Records.filter((record) => !failed.has(record.messageId));
    if (done.length > 0) stats.deletes += 1;
    processed.set(name, (processed.get(name) ?? 0) + done.length);
    if (trackCompletions) recordCompletions(name, done);
    return response;
  };
}

function recordCompletions(consumer: string, records: readonly SQSRecord[]): void {
  let seen = completions.get(consumer);
  if (!seen) completions.set(consumer, (seen = new Map()));
  const at = nowMs();
  for (const record of records) {
    const key = callbackKey(JSON.parse(record.body) as Record<string, unknown>);
    if (!seen.has(key)) seen.set(key, at);
  }
}

/**
 * Around the table-stream consumer (the event publisher): its duration and batch. Lambda's stream event source
 * reads the stream itself (GetRecords is not billed), so there are no event-source requests to count.
 */
function timedStream(name: string, handler: StreamHandler): StreamHandler {
  return async (event, context) => {
    const stats = statsFor(name, 'stream');
    const started = performance.now();
    stats.invocations += 1;
    stats.records += event.Records.length;
    let response: DynamoDBBatchResponse | void;
    try {
      response = await attributeTo(name, () => handler(event, context));
    } finally {
      stats.totalMs += performance.now() - started;
    }
    return response;
  };
}

const messagesSentBy = (handler: string): number => Object.values(sdkCounts().byHandler[handler]?.sqs ?? {}).reduce((sum, count) => sum + count.messages, 0);

/**
 * Waits until every change committed so far has been published (the stream read to its end and handled) and every
 * webhook delivery the publisher enqueued since the last reset has been processed by deliver-webhook.
 */
async function eventsSettled(stack: Stack, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await stack.gateway.published();
    const enqueued = messagesSentBy(EVENT_PUBLISHER);
    if ((processed.get(EVENT_DELIVERY_CONSUMER) ?? 0) >= enqueued) return;
    if (Date.now() > deadline) {
      throw new Error(`events not settled after ${timeoutMs} ms: ${processed.get(EVENT_DELIVERY_CONSUMER) ?? 0} of ${enqueued} webhook deliveries processed`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// ------------------------------------------------------------------------------------------------------------
// The baselines: the same unavoidable I/O with no product code in between

let bareSqs: SQSClient | undefined;
let bareDdb: DynamoDBDocumentClient | undefined;

/** POST → one SendMessage → 200. Same SQS client factory as the webhooks, so same endpoint handling and counters. */
const bareEnqueue: HttpHandler = async (event) => {
  bareSqs ??= sqsClient(UNTRACED);
  const body = JSON.parse(event.body ?? '{}') as Record<string, unknown>;
  await bareSqs.send(
    new SendMessageCommand({
      QueueUrl: process.env.BENCH_BARE_QUEUE_URL!,
      MessageBody: JSON.stringify({ correlationId: event.headers['x-correlation-id'], ...body }),
    }),
  );
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
};

/**
 * One TransactWriteItems per message: the dedupe/history event (attribute_not_exists) and the token, with the
 * product's key layout and indexes, no reads. Records run concurrently, as Powertools' BatchProcessor runs them.
 */
const bareApply: SqsHandler = async (event: SQSEvent) => {
  bareDdb ??= documentClient(UNTRACED);
  const client = bareDdb;
  await Promise.all(event.Records.map((record) => bareWrite(client, JSON.parse(record.body) as Record<string, string | number | null>)));
  return { batchItemFailures: [] };
};

async function bareWrite(client: DynamoDBDocumentClient, message: Record<string, string | number | null>): Promise<void> {
  const tableName = process.env.BENCH_BARE_TABLE_NAME!;
  const pk = `TOKEN#${String(message.virtualCardId)}`;
  const at = new Date().toISOString();
  const identity = `${String(message.correlationId)}|${String(message.action)}|${String(message.errorCode ?? null)}`;
  for (let attempt = 0; attempt < 8; attempt++) {
    try {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: tableName,
                Item: { pk, sk: `EVT#${identity}`, seq: `EVT#${at}`, entity: 'EVENT', ...message, at },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: tableName,
                Item: {
                  pk,
                  sk: 'TOKEN',
                  gsi1pk: `CARD#${String(message.issuerCardRefId)}`,
                  gsi1sk: pk,
                  entity: 'TOKEN',
                  lastAction: message.action,
                  updatedAt: at,
                },
              },
            },
          ],
        }),
      );
      return;
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      if (err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return; // a duplicate: done
      // TransactionConflict with a concurrent write to the same token: try again, as the product does.
    }
  }
  throw new Error(`bare write for ${pk} kept conflicting`);
}

// ------------------------------------------------------------------------------------------------------------
// Composition, as local/dev.ts does it

interface Stack {
  engines: LocalAwsEngines;
  product: ProvisionedResources;
  bare: ProvisionedResources;
  simulator: D1Simulator;
  gateway: LocalService;
  /** Running consumer sets; both may run at once (the idle one only long-polls an empty queue). */
  consumers: Map<ConsumerSet, LocalService>;
  info: ServiceInfo;
}

const loadHttpHandler: HandlerLoader = async (name) => timedHttp(name, name === BARE_ENQUEUE ? bareEnqueue : await loadHandlerModule(name));

async function loadConsumer(name: HandlerName): Promise<SqsHandler> {
  if (name === BARE_APPLY) return timedConsumer(name, bareApply, true);
  const mod = (await import(`../lambdas/handlers/${name}`)) as { handler: SqsHandler };
  // Completions are callback identities: the consumers of other messages have none.
  return timedConsumer(name, mod.handler, CALLBACK_CONSUMERS.has(name));
}

async function loadStreamConsumer(name: HandlerName): Promise<StreamHandler> {
  const mod = (await import(`../lambdas/handlers/${name}`)) as { handler: StreamHandler };
  return timedStream(name, mod.handler);
}

async function startStack(): Promise<Stack> {
  // Hooks first: handler modules create their clients when they load.
  setDynamoDbClientHook(countDynamoDbRequests);
  setSqsClientHook(countSqsRequests);

  const engines = await startLocalAws();
  try {
    const product = await provisionResources({ ddbEndpoint: engines.ddbEndpoint, sqsEndpoint: engines.sqsEndpoint });
    const bare = await provisionResources({ ddbEndpoint: engines.ddbEndpoint, sqsEndpoint: engines.sqsEndpoint, prefix: 'bare-' });
    const port = await freePort();
    const simulator = await startD1Simulator({ port: 0, issuerId: BENCH_ISSUER_ID, serviceBaseUrl: `http://127.0.0.1:${port}`, trApiKey: BENCH_TR_API_KEY });
    Object.assign(process.env, {
      ISSUER_ID: BENCH_ISSUER_ID,
      TR_API_KEY: BENCH_TR_API_KEY,
      D1_ISSUER_BASE_URL: simulator.url,
      D1_COF_BASE_URL: simulator.url,
      D1_COF_API_KEY: 'bench-cof-key',
      TR_JWE_PRIVATE_KEY: 'unused-by-the-benched-handlers',
      DATA_KEY: randomBytes(32).toString('base64'),
      LOG_LEVEL: 'INFO', // what runs in AWS: the log volume is part of the cost
      D1_MAX_TPS: String(benchD1MaxTps()), // the bulk job's pace (section 7); interactive operations share it
      // The bench's webhook receiver listens on 127.0.0.1 (as npm start's event sink does).
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      ...engines.env,
      ...product.env,
      BENCH_BARE_QUEUE_URL: bare.queues.issuerCallbacks.url,
      BENCH_BARE_TABLE_NAME: bare.env.TABLE_NAME,
    });
    // product.env carries WEBHOOK_DELIVERIES_DLQ_URL (deliver-webhook parks spent deliveries there).
    if (!process.env.WEBHOOK_DELIVERIES_DLQ_URL) throw new Error('provisionResources gave no WEBHOOK_DELIVERIES_DLQ_URL');
    // No queue consumers yet: the ack phase measures the webhooks alone (in AWS the consumers run elsewhere). The
    // table's stream consumer (the event publisher) runs from here to the end, on the product table only: started
    // once, so it reads the stream from its start once (a restarted poller would publish everything again).
    const gateway = await startLocalService({
      port,
      sqsEndpoint: engines.sqsEndpoint,
      queues: product.queues,
      routes: [...HTTP_ROUTES, BARE_ROUTE],
      consumers: [],
      table: { ddbEndpoint: engines.ddbEndpoint, tableName: product.env.TABLE_NAME! },
      loadStreamConsumer,
      // The stream poller's lines (read failures, retried and skipped batches) into the handler log; not the
      // gateway's line per request.
      log: (line) => {
        if (line.startsWith(`${EVENT_PUBLISHER}:`)) process.stderr.write(`[stream] ${line}\n`);
      },
      schedules: [],
      loadHandler: loadHttpHandler,
    });
    const info: ServiceInfo = {
      gatewayUrl: gateway.gateway.url,
      simulatorUrl: simulator.url,
      ddbEndpoint: engines.ddbEndpoint,
      sqsEndpoint: engines.sqsEndpoint,
      tableName: product.env.TABLE_NAME!,
      bareTableName: bare.env.TABLE_NAME!,
      javaPid: engines.java.pid!,
    };
    return { engines, product, bare, simulator, gateway, consumers: new Map(), info };
  } catch (err) {
    await engines.stop();
    throw err;
  }
}

/** Product consumers as lambdas/topology.ts declares them, or the bare consumer on the bare queue. */
async function startConsumers(stack: Stack, set: ConsumerSet): Promise<void> {
  if (stack.consumers.has(set)) return;
  const bareConsumer: QueueConsumer = { queue: 'issuerCallbacks', handler: BARE_APPLY, batchSize: 10, maxConcurrency: 10 };
  // The product set includes deliver-webhook (webhook-deliveries). No `table` here: the publisher already runs with
  // the gateway (startStack), and a second stream poller on the same stream would publish every change twice.
  const service = await startLocalService({
    port: 0, // startLocalService always brings a gateway; this one is never called
    sqsEndpoint: stack.engines.sqsEndpoint,
    queues: set === 'product' ? stack.product.queues : stack.bare.queues,
    routes: [],
    consumers: set === 'product' ? QUEUE_CONSUMERS : [bareConsumer],
    schedules: [],
    loadConsumer,
  });
  stack.consumers.set(set, service);
}

/** The pollers' long-poll wait (local/sqs-poller.ts default), plus a margin. */
const LONG_POLL_DRAIN_MS = 1_200;

async function stopConsumers(stack: Stack): Promise<void> {
  if (stack.consumers.size === 0) return;
  await Promise.all([...stack.consumers.values()].map((service) => service.stop()));
  stack.consumers.clear();
  // fauxqs ignores that a poller aborted its long poll: it still dequeues the next message for the dead request,
  // and that message stays invisible for the visibility timeout (5 s). Let those waits run out before any send.
  await new Promise((resolve) => setTimeout(resolve, LONG_POLL_DRAIN_MS));
}

async function purgeQueues(stack: Stack): Promise<void> {
  const sqs = new SQSClient({ endpoint: stack.engines.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    for (const resources of [stack.product, stack.bare]) {
      for (const queue of Object.values(resources.queues)) await sqs.send(new PurgeQueueCommand({ QueueUrl: queue.url }));
    }
  } finally {
    sqs.destroy();
  }
}

/** Peak RSS of this process (gateway, handlers, pollers, fauxqs, simulator) and of the DynamoDB Local JVM. */
function peakMemoryMb(stack: Stack): PeakMemory {
  let javaMb: number | null = null;
  try {
    const status = readFileSync(`/proc/${stack.engines.java.pid}/status`, 'utf8');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    if (hwm) javaMb = Number(hwm[1]) / 1024;
  } catch {
    javaMb = null; // not Linux: no /proc
  }
  return { serviceMb: process.resourceUsage().maxRSS / 1024, javaMb };
}

async function main(): Promise<void> {
  countStdout();
  const stack = await startStack();
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const hardStop = setTimeout(() => process.exit(1), 8000);
    hardStop.unref();
    await stopConsumers(stack).catch(() => undefined);
    await stack.gateway.stop().catch(() => undefined);
    await stack.simulator.stop().catch(() => undefined);
    await stack.engines.stop().catch(() => undefined); // the JVM: never leave it behind
  };
  // The bench went away (crash, Ctrl-C): take the JVM down with us.
  process.on('disconnect', () => void stop().then(() => process.exit(0)));
  process.on('SIGTERM', () => void stop().then(() => process.exit(0)));
  process.on('SIGINT', () => void stop().then(() => process.exit(0)));

  serveRpc({
    resetCounters: () => resetCounters(stack.engines.java.pid),
    readCounters: (): CounterReport => ({ sdk: sdkCounts(), handlers: structuredClone(handlerStats), logBytes, cpuMs: cpuSinceReset(stack.engines.java.pid) }),
    startConsumers: (params: { set: ConsumerSet }) => startConsumers(stack, params.set),
    stopConsumers: () => stopConsumers(stack),
    purgeQueues: () => purgeQueues(stack),
    processed: (params: { consumer: string }) => processed.get(params.consumer) ?? 0,
    completions: (params: { consumer: string }) => Object.fromEntries(completions.get(params.consumer) ?? []),
    eventsSettled: (params: { timeoutMs: number }) => eventsSettled(stack, params.timeoutMs),
    idle: async () => {
      await stack.simulator.idle();
      await Promise.all([...stack.consumers.values()].map((service) => service.idle()));
    },
    memory: () => peakMemoryMb(stack),
    stop: async () => {
      await stop();
      setImmediate(() => process.exit(0));
    },
  });
  process.send?.({ ready: stack.info });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
