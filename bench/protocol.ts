/** What bench/run.ts and the service process (bench/service.ts) share: names, keys and the shapes they exchange. */
import type { SdkCounts } from './counters';

/** The bare baseline endpoint, added to the gateway by the bench only (not a product route). */
export const BARE_ROUTE_PATH = '/bench/bare-enqueue';
export const BARE_APPLY_CONSUMER = 'bench-bare-apply';

/** The product's consumers (lambdas/topology.ts QUEUE_CONSUMERS) or the bare baseline consumer. */
export type ConsumerSet = 'product' | 'bare';

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

export interface InvocationStats {
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

/** Sums two reports (e.g. the chunks of an interleaved run). */
export function addCounters(a: CounterReport, b: CounterReport): CounterReport {
  const handlers: CounterReport['handlers'] = structuredClone(a.handlers);
  for (const [name, stats] of Object.entries(b.handlers)) {
    const into = (handlers[name] ??= { invocations: 0, totalMs: 0, records: 0, receives: 0, deletes: 0 });
    for (const key of Object.keys(stats) as (keyof InvocationStats)[]) into[key] += stats[key];
  }
  const sdk = structuredClone(a.sdk);
  for (const service of ['dynamodb', 'sqs'] as const) {
    for (const [command, count] of Object.entries(b.sdk[service])) {
      const into = (sdk[service][command] ??= { requests: 0, failures: {}, wru: 0, rru: 0, localCapacity: 0, billedRequests: 0, messages: 0 });
      into.requests += count.requests;
      into.wru += count.wru;
      into.rru += count.rru;
      into.localCapacity += count.localCapacity;
      into.billedRequests += count.billedRequests;
      into.messages += count.messages;
      for (const [name, n] of Object.entries(count.failures)) into.failures[name] = (into.failures[name] ?? 0) + n;
    }
  }
  const ddb = a.cpuMs.dynamoDbLocal === null || b.cpuMs.dynamoDbLocal === null ? null : a.cpuMs.dynamoDbLocal + b.cpuMs.dynamoDbLocal;
  return { sdk, handlers, logBytes: a.logBytes + b.logBytes, cpuMs: { service: a.cpuMs.service + b.cpuMs.service, dynamoDbLocal: ddb } };
}

export const emptyCounters = (): CounterReport => ({ sdk: { dynamodb: {}, sqs: {} }, handlers: {}, logBytes: 0, cpuMs: { service: 0, dynamoDbLocal: 0 } });

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
