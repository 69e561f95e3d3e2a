/**
 * Published AWS prices the cost model uses: us-east-1, on-demand, list price (no free tier, no savings plans).
 *
 * Each constant names its source page and the date its value applies from. This machine has no internet access,
 * so the values were not re-fetched when this file was written (`recorded`). Check the source pages before you
 * quote a figure.
 */

export interface Price {
  /** USD per `unit`. */
  usd: number;
  unit: string;
  source: string;
  /** When this price took effect, or when it was read from the source page. */
  asOf: string;
  note?: string;
}

export const PRICES_RECORDED = '2026-11-24';

export const PRICES = {
  httpApiRequest: {
    usd: 1.0 / 1e6,
    unit: 'HTTP API request (first 300 million per month; metered per 512 KB)',
    source: 'https://aws.amazon.com/api-gateway/pricing/',
    asOf: '2026-11-24',
  },
  lambdaRequest: {
    usd: 0.2 / 1e6,
    unit: 'Lambda invocation',
    source: 'https://aws.amazon.com/lambda/pricing/',
    asOf: '2026-11-24',
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: 'GB-second, arm64 (first 7.5 billion GB-s per month), billed per 1 ms',
    source: 'https://aws.amazon.com/lambda/pricing/',
    asOf: '2026-11-24',
  },
  dynamoDbWriteRequestUnit: {
    usd: 0.625 / 1e6,
    unit: 'on-demand write request unit (1 KB; transactional = 2)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    asOf: '2024-11-01',
    note: 'on-demand throughput price cut of November 2024 (was $1.25)',
  },
  dynamoDbReadRequestUnit: {
    usd: 0.125 / 1e6,
    unit: 'on-demand read request unit (4 KB strongly consistent; transactional = 2)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    asOf: '2024-11-01',
    note: 'on-demand throughput price cut of November 2024 (was $0.25)',
  },
  sqsStandardRequest: {
    usd: 0.4 / 1e6,
    unit: 'SQS standard request (each 64 KB chunk of a payload is one request; a batch of up to 10 messages is one request)',
    source: 'https://aws.amazon.com/sqs/pricing/',
    asOf: '2026-11-24',
  },
  eventBridgePutEvent: {
    usd: 1.0 / 1e6,
    unit: 'EventBridge custom event published (PutEvents; each 64 KB chunk of an entry is one event)',
    source: 'https://aws.amazon.com/eventbridge/pricing/',
    asOf: '2026-11-24',
    note: 'counted per event published, although npm start and the bench run without a bus (EVENT_BUS_NAME unset)',
  },
} as const satisfies Record<string, Price>;

export type PriceKey = keyof typeof PRICES;

/** SQS bills every 64 KB chunk of a request's payload as one request. */
export const SQS_CHUNK_BYTES = 64 * 1024;

/** Lambda memory when lambdas/topology.ts HANDLERS gives none (the CDK Functions construct uses the same default). */
export const DEFAULT_LAMBDA_MEMORY_MB = 256;

/**
 * Ceiling for the whole per-callback cost (HTTP API + webhook + SQS + apply + DynamoDB), on the main workload and
 * the steady state alike (the floor at 4 WRU is ≈ $4.25 on these prices).
 */
export const TARGET_USD_PER_MILLION_CALLBACKS = 4.8;
