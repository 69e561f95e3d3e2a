/** What bench/run.ts and the service process (bench/service.ts) share: names, keys and the shapes they exchange. */
import { UNATTRIBUTED, type HandlerSdkCounts, type SdkCounts, type ServiceCounts } from './counters';

/** The bare baseline endpoint, added to the gateway by the bench only (not a product route). */
export const BARE_ROUTE_PATH = '/bench/bare-enqueue';
export const BARE_APPLY_CONSUMER = 'bench-bare-apply';

/** The product's consumers (lambdas/topology.ts QUEUE_CONSUMERS) or the bare baseline consumer. */
export type ConsumerSet = 'product' | 'bare';

/** Events out (DESIGN §8): the table-stream publisher and the webhook-deliveries consumer. */
export const EVENT_PUBLISHER = 'publish-events';
export const EVENT_DELIVERY_CONSUMER = 'deliver-webhook';
export const EVENTS_OUT_HANDLERS: readonly string[] = [EVENT_PUBLISHER, EVENT_DELIVERY_CONSUMER];

/** The consumers whose messages are callbacks (the bench matches each to the delivery that sent it). */
export const CALLBACK_CONSUMERS: ReadonlySet<string> = new Set(['apply-virtual-card-change', 'apply-token-update']);

/**
 * D1_MAX_TPS of the bench service: the pace of the bulk job (section 7), which interactive operations share. 200
 * unless `npm run bench -- --job-tps=<n>` (passed to the service process as BENCH_D1_MAX_TPS).
 */
export const benchD1MaxTps = (): number => Number(process.env.BENCH_D1_MAX_TPS ?? 200);

export const BENCH_ISSUER_ID = 'ISSUER0001';
export const BENCH_TR_API_KEY = 'bench-tr-key';

export interface ServiceInfo {
  gatewayUrl: string;
  simulatorUrl: string;
  ddbEndpoint: string;
  sqsEndpoint: string;
  tableName: string;
  bareTableName: string;
  /** The DynamoDB Local JVM, so the bench can make sure it is gone even if the service process is killed. */
  javaPid: number;
}

/** How a handler is invoked: an HTTP API request, an SQS event source batch, a DynamoDB stream batch. */
export type InvocationKind = 'http' | 'sqs' | 'stream';

export interface InvocationStats {
  kind: InvocationKind;
  invocations: number;
  totalMs: number;
  /** SQS consumers: records handed over, and the event source's ReceiveMessage/DeleteMessageBatch per batch. */
  records: number;
  receives: number;
  deletes: number;
}

export interface CounterReport {
  sdk: SdkCounts;
  handlers: Record<string, InvocationStats>;
  /** Bytes of JSON log lines the handlers wrote (CloudWatch Logs ingestion in AWS). */
  logBytes: number;
  /** CPU time since the reset: the service process (one event loop for everything) and the DynamoDB Local JVM. */
  cpuMs: { service: number; dynamoDbLocal: number | null };
}

const emptyCommand = () => ({ requests: 0, failures: {} as Record<string, number>, wru: 0, rru: 0, localCapacity: 0, billedRequests: 0, messages: 0 });

function addServiceCounts(into: ServiceCounts, from: ServiceCounts): void {
  for (const [command, count] of Object.entries(from)) {
    const sum = (into[command] ??= emptyCommand());
    sum.requests += count.requests;
    sum.wru += count.wru;
    sum.rru += count.rru;
    sum.localCapacity += count.localCapacity;
    sum.billedRequests += count.billedRequests;
    sum.messages += count.messages;
    for (const [name, n] of Object.entries(count.failures)) sum.failures[name] = (sum.failures[name] ?? 0) + n;
  }
}

/** Sums two reports (e.g. the chunks of an interleaved run). */
export function addCounters(a: CounterReport, b: CounterReport): CounterReport {
  const handlers: CounterReport['handlers'] = structuredClone(a.handlers);
  for (const [name, stats] of Object.entries(b.handlers)) {
    const into = (handlers[name] ??= { kind: stats.kind, invocations: 0, totalMs: 0, records: 0, receives: 0, deletes: 0 });
    into.invocations += stats.invocations;
    into.totalMs += stats.totalMs;
    into.records += stats.records;
    into.receives += stats.receives;
    into.deletes += stats.deletes;
  }
  const sdk = structuredClone(a.sdk);
  for (const service of ['dynamodb', 'sqs'] as const) addServiceCounts(sdk[service], b.sdk[service]);
  for (const [handler, counts] of Object.entries(b.sdk.byHandler)) {
    const into = (sdk.byHandler[handler] ??= { dynamodb: {}, sqs: {} });
    addServiceCounts(into.dynamodb, counts.dynamodb);
    addServiceCounts(into.sqs, counts.sqs);
  }
  const ddb = a.cpuMs.dynamoDbLocal === null || b.cpuMs.dynamoDbLocal === null ? null : a.cpuMs.dynamoDbLocal + b.cpuMs.dynamoDbLocal;
  return { sdk, handlers, logBytes: a.logBytes + b.logBytes, cpuMs: { service: a.cpuMs.service + b.cpuMs.service, dynamoDbLocal: ddb } };
}

export const emptyCounters = (): CounterReport => ({
  sdk: { dynamodb: {}, sqs: {}, byHandler: {} },
  handlers: {},
  logBytes: 0,
  cpuMs: { service: 0, dynamoDbLocal: 0 },
});

/**
 * The part of a report that `keep` handlers account for: their invocations and the SDK requests they made. CPU
 * and log bytes cannot be split by handler here: they stay whole on the side that keeps UNATTRIBUTED (the rest).
 */
export function countersOf(report: CounterReport, keep: (handler: string) => boolean): CounterReport {
  const byHandler = Object.fromEntries(Object.entries(report.sdk.byHandler).filter(([handler]) => keep(handler))) as Record<string, HandlerSdkCounts>;
  const sdk: SdkCounts = { dynamodb: {}, sqs: {}, byHandler: structuredClone(byHandler) };
  for (const counts of Object.values(byHandler)) {
    addServiceCounts(sdk.dynamodb, counts.dynamodb);
    addServiceCounts(sdk.sqs, counts.sqs);
  }
  const handlers = Object.fromEntries(Object.entries(report.handlers).filter(([handler]) => keep(handler)));
  const whole = keep(UNATTRIBUTED);
  return { sdk, handlers: structuredClone(handlers), logBytes: whole ? report.logBytes : 0, cpuMs: whole ? report.cpuMs : { service: 0, dynamoDbLocal: 0 } };
}

export interface PeakMemory {
  serviceMb: number;
  javaMb: number | null;
}

/**
 * Identity of a queued callback, the same on both sides: the dedupe fields of an issuer callback
 * (x-correlation-id, virtualCardId, action, errorCode), or tokenId + lastUpdateTimestamp (epoch ms) of a token update.
 */
export function callbackKey(message: Record<string, unknown>): string {
  if (typeof message.tokenId === 'string') return `${message.tokenId}|${String(message.lastUpdateTimestamp)}`;
  return `${String(message.correlationId)}|${String(message.virtualCardId)}|${String(message.action)}|${String(message.errorCode ?? null)}`;
}
