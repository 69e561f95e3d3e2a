/**
 * The service as data: every Lambda entry point's spec (lambdas/handlers/<name>.spec.ts) collected in one place,
 * and what derives from them — the HTTP routes, the queue consumers, the schedules and each handler's needs.
 *
 * The CDK constructs (lib/), the local runner (local/) and the OpenAPI document all read this module, so a route,
 * consumer or schedule exists in exactly one hand-written place: its handler's spec. No AWS or CDK imports here.
 * Adding an entry point: write its spec and its handler, then add one line to SPECS.
 */
import { MAX_WAIT_MS } from './domain/d1-pace';
import { spec as applyTokenUpdate } from './handlers/apply-token-update.spec';
import { spec as applyVirtualCardChange } from './handlers/apply-virtual-card-change.spec';
import { spec as d1BulkSubmitter } from './handlers/d1-bulk-submitter.spec';
import { spec as d1Submitter } from './handlers/d1-submitter.spec';
import { spec as deliverWebhook } from './handlers/deliver-webhook.spec';
import { spec as eventSubscriptions } from './handlers/event-subscriptions.spec';
import { spec as events } from './handlers/events.spec';
import { spec as health } from './handlers/health.spec';
import { spec as jobRunner } from './handlers/job-runner.spec';
import { spec as lcmJobs } from './handlers/lcm-jobs.spec';
import { spec as lcmOperations } from './handlers/lcm-operations.spec';
import { spec as networkTokenCredentials } from './handlers/network-token-credentials.spec';
import { spec as networkTokenQueries } from './handlers/network-token-queries.spec';
import { spec as notFound } from './handlers/not-found.spec';
import { spec as notifyTokenUpdate } from './handlers/notify-token-update.spec';
import { spec as notifyVirtualCardChange } from './handlers/notify-virtual-card-change.spec';
import { spec as openapi } from './handlers/openapi.spec';
import { spec as publishEvents } from './handlers/publish-events.spec';
import { spec as reconcileSweep } from './handlers/reconcile-sweep.spec';
import { spec as reconcile } from './handlers/reconcile.spec';
import { spec as tokenQueries } from './handlers/token-queries.spec';
import type { ApiName, HttpMethod, QueueKey } from './resources';
import type { HandlerSpec, RouteSpec } from './spec';

export * from './resources';
export { OPTIONAL_SECRET_ENV_KEYS, SECRET_ENV_KEYS, type OptionalSecretEnvKey, type SecretEnvKey } from './config/env';

/** Every entry point, by the name of its module: `lambdas/handlers/<name>.ts` exporting `handler`. */
export const SPECS = {
  health,
  'not-found': notFound,
  openapi,
  'notify-virtual-card-change': notifyVirtualCardChange,
  'apply-virtual-card-change': applyVirtualCardChange,
  'token-queries': tokenQueries,
  'lcm-operations': lcmOperations,
  'd1-submitter': d1Submitter,
  'lcm-jobs': lcmJobs,
  'job-runner': jobRunner,
  'd1-bulk-submitter': d1BulkSubmitter,
  'notify-token-update': notifyTokenUpdate,
  'apply-token-update': applyTokenUpdate,
  'network-token-queries': networkTokenQueries,
  'network-token-credentials': networkTokenCredentials,
  reconcile,
  'reconcile-sweep': reconcileSweep,
  'publish-events': publishEvents,
  events,
  'event-subscriptions': eventSubscriptions,
  'deliver-webhook': deliverWebhook,
} satisfies Record<string, HandlerSpec>;

export type HandlerName = keyof typeof SPECS;
const entries = Object.entries(SPECS) as [HandlerName, HandlerSpec][];

export interface HttpRoute {
  api: ApiName;
  method: HttpMethod;
  /** API Gateway route path; `{name}` is a path parameter. Case-sensitive. */
  path: string;
  handler: HandlerName;
  /** `iam`: SigV4-authorised in AWS (back-office callers); `none`: the handler authenticates (webhooks, health). */
  auth: 'iam' | 'none';
}

/** Every route with the spec it comes from (the OpenAPI document reads the schemas from here). */
export const ROUTE_SPECS: readonly { handler: HandlerName; name: string; route: RouteSpec }[] = entries.flatMap(([handler, spec]) =>
  Object.entries(spec.routes ?? {}).map(([name, route]) => ({ handler, name, route })),
);

export const HTTP_ROUTES: readonly HttpRoute[] = ROUTE_SPECS.flatMap(({ handler, route }) =>
  route.apis.map((api) => ({ api, method: route.method, path: route.path, handler, auth: route.auth })),
);

/** Answers every request no route matches (API Gateway `$default`): 404, or 405 with `allow`. */
export const FALLBACK_HANDLER: HandlerName = (() => {
  const fallbacks = entries.filter(([, spec]) => spec.fallback).map(([name]) => name);
  if (fallbacks.length !== 1) throw new Error(`exactly one handler spec must be the fallback, found ${fallbacks.length}`);
  return fallbacks[0]!;
})();

export interface QueueConsumer {
  queue: QueueKey;
  handler: HandlerName;
  batchSize: number;
  /** SQS event-source `maximumConcurrency` (2..1000): caps parallel consumers, e.g. toward D1. */
  maxConcurrency: number;
  pacedByD1?: boolean;
}

/**
 * How long a record of a paced consumer holds its place: up to MAX_WAIT_MS for its slot, then D1's answer (about
 * 0.3 s assumed). A batch ends with its slowest record, so this is about an invocation's length.
 */
const PACED_RECORD_SECONDS = MAX_WAIT_MS / 1000 + 0.3;

/**
 * The event-source concurrency a consumer gets: its spec's, or for a paced one enough invocations that
 * D1_MAX_TPS calls a second fit (Little's law: in flight = rate × time each holds), capped by SQS's 1 000.
 */
export function consumerConcurrency(consumer: Pick<QueueConsumer, 'batchSize' | 'maxConcurrency' | 'pacedByD1'>, d1MaxTps: number): number {
  if (!consumer.pacedByD1) return consumer.maxConcurrency;
  return Math.min(1000, Math.max(consumer.maxConcurrency, Math.ceil((d1MaxTps * PACED_RECORD_SECONDS) / consumer.batchSize)));
}

export const QUEUE_CONSUMERS: readonly QueueConsumer[] = entries.flatMap(([handler, spec]) => (spec.consumes ? [{ handler, ...spec.consumes }] : []));

/** The table-stream consumer (at most one: DESIGN §8's publisher). */
export interface TableStreamConsumer {
  handler: HandlerName;
  batchSize: number;
  retryAttempts: number;
}

export const TABLE_STREAM_CONSUMERS: readonly TableStreamConsumer[] = entries.flatMap(([handler, spec]) =>
  spec.consumesTableStream ? [{ handler, ...spec.consumesTableStream }] : [],
);

/** Handlers run on a timer: an EventBridge schedule in AWS, setInterval under `npm start`. */
export interface Schedule {
  handler: HandlerName;
  rateMinutes: number;
}

export const SCHEDULES: readonly Schedule[] = entries.flatMap(([handler, spec]) => (spec.schedule ? [{ handler, ...spec.schedule }] : []));

/**
 * What each Lambda needs, so CDK grants least privilege from the same spec the code loads its env from: the env
 * vars it reads, its table access and the queues it sends to.
 */
export type HandlerNeeds = Pick<HandlerSpec, 'env' | 'table' | 'sendsTo' | 'memoryMb'>;

export const HANDLERS = Object.fromEntries(
  entries.map(([name, spec]) => [name, { env: spec.env, table: spec.table, sendsTo: spec.sendsTo, ...(spec.memoryMb ? { memoryMb: spec.memoryMb } : {}) }]),
) as Record<HandlerName, HandlerNeeds>;
