import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent, SQSRecord, DynamoDBRecord } from 'aws-lambda';
import type * as z from 'zod';
import { isSecretEnvKey, loadEnv, type Env, type OptionalSecretEnvKey, type SecretEnvKey } from './config/env';
import { afterSecrets, type SecretFetcher } from './config/secrets';
import type { HttpEvent, HttpHandler, HttpRequest, HttpResult } from './http/route';
import { logger, metrics } from './observability';
import type { HandlerSpec, RouteSpec } from './spec';

/**
 * The one way an entry point is built from its spec (lambdas/spec.ts):
 * - env: exactly the spec's variables. Plain ones are validated when the module loads (a bad value fails the cold
 *   start, naming the variable); secret-valued ones are fetched by ARN on the first invocation (AWS), then
 *   everything is validated again and `compose` builds the dependencies once, reused by every later invocation.
 *   A failed fetch or composition is retried on the next invocation.
 * - routes: one implementation per route name of the spec (a missing or extra name does not compile); each gets
 *   its request parsed by the route's schemas and must return one of the route's declared responses.
 * - a queue consumer, the table-stream consumer, a schedule or the `$default` fallback: one function.
 *
 * Each kind's wrapper lives with its runtime, so a bundle carries only its own: `defineHandler` from
 * http/define-routes.ts (routes), sqs/define-consumer.ts (a queue), streams/define-stream-consumer.ts (the table
 * stream), or this module's (a schedule, the fallback); lambdas/define-handler.ts builds every kind (tests).
 */

export type SpecEnv<S extends HandlerSpec> = Pick<Env, S['env'][number]>;

type Parsed<T> = T extends z.core.$ZodType ? z.output<T> : Record<string, never>;
type Req<R extends RouteSpec> = R['request'] extends object ? R['request'] : Record<string, never>;
type RequestOf<R extends RouteSpec> = HttpRequest<
  Parsed<Req<R>['headers']>,
  Req<R>['body'] extends z.core.$ZodType ? z.output<Req<R>['body']> : undefined,
  Parsed<Req<R>['query']>,
  Parsed<Req<R>['path']>
>;

/** One of the route's declared responses: the status picks the body's type (none where the spec says `null`). */
export type ResponseOf<R extends RouteSpec> = {
  [Status in keyof R['responses'] & number]: R['responses'][Status] extends z.core.$ZodType
    ? { status: Status; body: z.input<R['responses'][Status]>; headers?: Record<string, string> }
    : { status: Status; body?: undefined; headers?: Record<string, string> };
}[keyof R['responses'] & number];

export interface RouteImpl<R extends RouteSpec, D> {
  /** Runs before the body is parsed (after the 413/415 checks): throws 401/403. */
  authenticate?: (headers: Record<string, string | undefined>, deps: D) => void;
  handle: (request: RequestOf<R>, deps: D) => Promise<ResponseOf<R>>;
}

type Routes<S extends HandlerSpec> = NonNullable<S['routes']>;

export type Implementation<S extends HandlerSpec, D> = S['routes'] extends object
  ? { [Name in keyof Routes<S>]: RouteImpl<Routes<S>[Name], D> }
  : S['consumes'] extends object
    ? (record: SQSRecord, deps: D) => Promise<void>
    : S['consumesTableStream'] extends object
      ? (record: DynamoDBRecord, deps: D) => Promise<void>
      : S['schedule'] extends object
        ? (deps: D, event: unknown) => Promise<unknown>
        : (event: HttpEvent, deps: D) => Promise<HttpResult>;

export type HandlerOf<S extends HandlerSpec> = S['consumes'] extends object
  ? (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>
  : S['consumesTableStream'] extends object
    ? (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse>
    : S['schedule'] extends object
      ? (event: unknown, context?: Context) => Promise<unknown>
      : HttpHandler;

/**
 * Every handler `defineHandler` returns carries, under this key, the function that composes its dependencies (after
 * fetching its secrets), as its first invocation does, without invoking it: the bench times import + composition of
 * each bundle with it (bench/bundles.ts). Calling it more than once composes once.
 */
export const COMPOSE: unique symbol = Symbol.for('token-lifecycle.compose');

const withCompose = <H extends object>(handler: H, compose: () => Promise<unknown>): H => Object.assign(handler, { [COMPOSE]: compose });

/**
 * A spec with secret-valued env needs `fetchSecret` (`secretsManagerFetcher()` from config/secrets-manager.ts); one
 * without may not take it, so the Secrets Manager client is bundled only where a secret is read.
 */
export type HandlerOptions<S extends HandlerSpec> = [Extract<S['env'][number], SecretEnvKey | OptionalSecretEnvKey>] extends [never]
  ? []
  : [options: { fetchSecret: SecretFetcher }];

/** The spec kinds whose wrapper lives in a module of its own, and that module. */
export type HandlerKind = 'routes' | 'consumes' | 'consumesTableStream';
const KIND_MODULE: Record<HandlerKind, string> = {
  routes: 'lambdas/http/define-routes.ts',
  consumes: 'lambdas/sqs/define-consumer.ts',
  consumesTableStream: 'lambdas/streams/define-stream-consumer.ts',
};

/** Wraps `impl` (the spec's implementation, typed by `Implementation`) into the Lambda handler of its kind. */
export type KindBuilder = (spec: HandlerSpec, impl: unknown, deps: () => Promise<unknown>) => object;

/** `defineHandler` able to build the given kinds (plus schedules and the fallback, which need nothing). */
export function defineHandlerWith(kinds: Partial<Record<HandlerKind, KindBuilder>>) {
  return function defineHandler<const S extends HandlerSpec, D>(
    spec: S,
    compose: (env: SpecEnv<S>) => D,
    impl: Implementation<S, D>,
    ...options: HandlerOptions<S>
  ): HandlerOf<S> {
    const fetchSecret = (options as [{ fetchSecret: SecretFetcher }?])[0]?.fetchSecret;
    const secretKeys = spec.env.filter(isSecretEnvKey);
    loadEnv(spec.env.filter((key) => !isSecretEnvKey(key)));
    const deps = afterSecrets(secretKeys, () => compose(loadEnv(spec.env) as SpecEnv<S>), fetchSecret);

    const kind: HandlerKind | undefined = spec.routes ? 'routes' : spec.consumes ? 'consumes' : spec.consumesTableStream ? 'consumesTableStream' : undefined;
    if (kind) {
      const build = kinds[kind];
      if (!build) throw new Error(`a spec with ${kind} is built by the defineHandler of ${KIND_MODULE[kind]}`);
      return withCompose(build(spec, impl, deps), deps) as HandlerOf<S>;
    }
    if (spec.schedule) {
      const run = impl as (deps: D, event: unknown) => Promise<unknown>;
      const scheduled = async (event: unknown, context?: Context): Promise<unknown> => {
        if (context) logger.addContext(context);
        try {
          return await run(await deps(), event);
        } finally {
          if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
        }
      };
      return withCompose(scheduled, deps) as HandlerOf<S>;
    }
    const fallback = impl as (event: HttpEvent, deps: D) => Promise<HttpResult>;
    const handler: HttpHandler = async (event) => fallback(event, await deps());
    return withCompose(handler, deps) as HandlerOf<S>;
  };
}

/** For a schedule or the `$default` fallback. */
export const defineHandler = defineHandlerWith({});
