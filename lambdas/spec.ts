import type * as z from 'zod';
import type { EnvKey } from './config/env';
import type { ApiName, HttpMethod, QueueKey } from './resources';

/**
 * What one Lambda entry point is, as plain data: its routes (or the queue it consumes, or its schedule), the env
 * variables it reads and the table and queues it touches. `lambdas/handlers/<name>.spec.ts` declares it; the
 * topology collects every spec, and from it come the API routes, the CDK functions with their env and grants,
 * the local runner's wiring and the OpenAPI document. `defineHandler` (lambdas/define-handler.ts) loads exactly
 * the declared env and types the handler's code against the spec. No I/O and no AWS imports: CDK and the local
 * runner import every spec.
 */

export interface RouteRequest {
  headers?: z.core.$ZodType;
  query?: z.core.$ZodType;
  /** Path parameters; a value that fails this schema matches no record (404, never 400). */
  path?: z.core.$ZodType;
  body?: z.core.$ZodType;
}

export interface RouteSpec {
  /** Both APIs may serve the same route (health). */
  apis: readonly ApiName[];
  method: HttpMethod;
  /** API Gateway route path; `{name}` is a path parameter. Case-sensitive. */
  path: string;
  /** `iam`: SigV4-authorised in AWS (back-office callers); `none`: the handler authenticates (webhooks, health). */
  auth: 'iam' | 'none';
  summary: string;
  request?: RouteRequest;
  /** Success status → body schema (`null`: no body). The handler's return value is typed (and in tests checked) by it. */
  responses: Readonly<Record<number, z.core.$ZodType | null>>;
  /** Error statuses the route answers with the §3 error body (documented in OpenAPI). */
  errors: readonly number[];
  /** Count and log rejected requests (webhooks: D1 never retries a 4xx, so each one is alarmed). */
  countRejections?: boolean;
}

export interface QueueConsumerSpec {
  queue: QueueKey;
  batchSize: number;
  /** SQS event-source `maximumConcurrency` (2..1000): caps parallel consumers, e.g. toward D1. */
  maxConcurrency: number;
  /**
   * Records wait for D1 pace slots: the concurrency grows with D1_MAX_TPS so enough records are in flight to use
   * every slot (see `consumerConcurrency` in lambdas/topology.ts); `maxConcurrency` is then the floor.
   */
  pacedByD1?: boolean;
}

/** The table's change stream (DynamoDB Streams in AWS; the local stream poller under `npm start`). */
export interface TableStreamConsumerSpec {
  /** Records per invocation (1..10000). */
  batchSize: number;
  /** Invocations retried on one failing record before it goes to the on-failure destination (the stream's DLQ). */
  retryAttempts: number;
}

export interface HandlerSpec {
  /** One sentence: what this Lambda does. */
  description: string;
  /** Every variable the handler reads (names from lambdas/config/env.ts); secret-valued ones are fetched by ARN in AWS. */
  env: readonly EnvKey[];
  table: 'none' | 'read' | 'readwrite';
  sendsTo: readonly QueueKey[];
  /** Memory in MB; small handlers are I/O-bound, 256 MB keeps cold starts acceptable on arm64. */
  memoryMb?: number;
  /** Exactly one of: HTTP routes (keyed by route name), a queue or the table's stream it consumes, a schedule, or the `$default` fallback. */
  routes?: Readonly<Record<string, RouteSpec>>;
  consumes?: QueueConsumerSpec;
  consumesTableStream?: TableStreamConsumerSpec;
  /** Run on a timer: an EventBridge schedule in AWS, setInterval under `npm start`. */
  schedule?: { rateMinutes: number };
  /** Answers every request no route matches (API Gateway `$default`). */
  fallback?: true;
}

/** Keeps the literal types (route names, env keys) that `defineHandler` checks the implementation against. */
export const defineSpec = <const S extends HandlerSpec>(spec: S): S => spec;
