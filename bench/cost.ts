/**
 * Cost model: what one unit of work (a callback, an LCM operation) uses, from the counted requests, priced with
 * bench/prices.ts. Lambda durations are the handlers' mean wall time measured locally under load (many
 * invocations share two cores here, so they wait on each other): an upper bound for the I/O-bound handlers, with
 * one caveat written next to the figure — a 256 MB Lambda gets ~1/7 of a vCPU, so CPU-heavy code would be slower.
 */
import { HANDLERS, type HandlerName } from '../lambdas/topology';
import { isDynamoDbRead, isDynamoDbWrite, total } from './counters';
import { DEFAULT_LAMBDA_MEMORY_MB, PRICES } from './prices';
import type { CounterReport } from './protocol';

/**
 * D1's updateCardState round trip is not measurable locally (the simulator answers in ~1 ms); the d1-submitter
 * is billed while it waits. Assumed, not measured: change it here when production latency is known.
 */
export const ASSUMED_D1_ROUND_TRIP_MS = 300;

export interface LambdaUsage {
  handler: string;
  invocations: number;
  msPerInvocation: number;
  memoryMb: number;
}

/** Everything one unit of work uses (fractions: e.g. 0.1 apply invocations per callback with batches of 10). */
export interface Usage {
  httpApiRequests: number;
  lambdas: LambdaUsage[];
  sqsRequests: number;
  dynamoDbWriteRequests: number;
  dynamoDbReadRequests: number;
  wru: number;
  rru: number;
  /** Events put on the EventBridge bus (events out; the bench has no bus, so this is counted, not sent). */
  eventBridgeEvents: number;
  logBytes: number;
}

export interface CostLine {
  item: string;
  quantity: number;
  usdPerMillion: number;
}

export interface CostBreakdown {
  lines: CostLine[];
  usdPerMillion: number;
}

const memoryOf = (handler: string): number => HANDLERS[handler as HandlerName]?.memoryMb ?? DEFAULT_LAMBDA_MEMORY_MB;

/**
 * Turns a phase's counters into usage per unit (`units` = callbacks delivered, operations requested…). Every HTTP
 * handler invocation is one HTTP API request; `extraMs` adds assumed waiting time to a handler's duration.
 */
export function usageFrom(counters: CounterReport, units: number, extraMs: Record<string, number> = {}, eventBridgeEvents = 0): Usage {
  const httpApiRequests = Object.values(counters.handlers)
    .filter((stats) => stats.kind === 'http')
    .reduce((sum, stats) => sum + stats.invocations, 0);
  const lambdas: LambdaUsage[] = Object.entries(counters.handlers)
    .filter(([, stats]) => stats.invocations > 0)
    .map(([handler, stats]) => ({
      handler,
      invocations: stats.invocations / units,
      msPerInvocation: stats.totalMs / stats.invocations + (extraMs[handler] ?? 0),
      memoryMb: memoryOf(handler),
    }));
  // The SQS event source mapping's ReceiveMessage and DeleteMessageBatch are billed to us too (a stream consumer
  // has none: Lambda's GetRecords on a DynamoDB stream is not billed).
  const eventSourceRequests = Object.values(counters.handlers).reduce((sum, s) => sum + s.receives + s.deletes, 0);
  const { dynamodb, sqs } = counters.sdk;
  return {
    httpApiRequests: httpApiRequests / units,
    lambdas,
    sqsRequests: (total(sqs, 'billedRequests') + eventSourceRequests) / units,
    dynamoDbWriteRequests: total(dynamodb, 'requests', isDynamoDbWrite) / units,
    dynamoDbReadRequests: total(dynamodb, 'requests', isDynamoDbRead) / units,
    wru: total(dynamodb, 'wru') / units,
    rru: total(dynamodb, 'rru') / units,
    eventBridgeEvents: eventBridgeEvents / units,
    logBytes: counters.logBytes / units,
  };
}

/** Lambda bills each invocation's duration rounded up to the next millisecond. */
const gbSeconds = (lambda: LambdaUsage): number => lambda.invocations * (Math.ceil(lambda.msPerInvocation) / 1000) * (lambda.memoryMb / 1024);

export function costOf(usage: Usage): CostBreakdown {
  const million = 1e6;
  const lines: CostLine[] = [
    { item: 'API Gateway HTTP API requests', quantity: usage.httpApiRequests, usdPerMillion: usage.httpApiRequests * PRICES.httpApiRequest.usd * million },
    ...usage.lambdas.flatMap((lambda) => [
      { item: `Lambda ${lambda.handler}: invocations`, quantity: lambda.invocations, usdPerMillion: lambda.invocations * PRICES.lambdaRequest.usd * million },
      {
        item: `Lambda ${lambda.handler}: ${lambda.memoryMb} MB × ${Math.ceil(lambda.msPerInvocation)} ms (GB-s)`,
        quantity: gbSeconds(lambda),
        usdPerMillion: gbSeconds(lambda) * PRICES.lambdaArmGbSecond.usd * million,
      },
    ]),
    {
      item: 'SQS requests (sends, event-source receives and deletes)',
      quantity: usage.sqsRequests,
      usdPerMillion: usage.sqsRequests * PRICES.sqsStandardRequest.usd * million,
    },
    { item: 'DynamoDB write request units', quantity: usage.wru, usdPerMillion: usage.wru * PRICES.dynamoDbWriteRequestUnit.usd * million },
    { item: 'DynamoDB read request units', quantity: usage.rru, usdPerMillion: usage.rru * PRICES.dynamoDbReadRequestUnit.usd * million },
    {
      item: 'EventBridge PutEvents (events)',
      quantity: usage.eventBridgeEvents,
      usdPerMillion: usage.eventBridgeEvents * PRICES.eventBridgePutEvent.usd * million,
    },
  ];
  return { lines, usdPerMillion: lines.reduce((sum, line) => sum + line.usdPerMillion, 0) };
}
