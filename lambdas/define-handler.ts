import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type * as z from 'zod';
import { isSecretEnvKey, loadEnv, type Env, type OptionalSecretEnvKey, type SecretEnvKey } from './config/env';
import { afterSecrets, type SecretFetcher } from './config/secrets';
import { httpRoute, routeByKey, type HttpEvent, type HttpHandler, type HttpRequest, type HttpResult } from './http/route';
import { logger, metrics } from './observability';
import { routeKey } from './resources';
import type { HandlerSpec, RouteSpec } from './spec';
import { sqsConsumer } from './sqs/consumer';
import { tableStreamConsumer } from './streams/table-stream-consumer';

/**
 * The one way an entry point is built from its spec (lambdas/spec.ts):
 * - env: exactly the spec's variables. Plain ones are validated when the module loads (a bad value fails the cold
 *   start, naming the variable); secret-valued ones are fetched by ARN on the first invocation (AWS), then
 *   everything is validated again and `compose` builds the dependencies once, reused by every later invocation.
 *   A failed fetch or composition is retried on the next invocation.
 * - routes: one implementation per route name of the spec (a missing or extra name does not compile); each gets
 *   its request parsed by the route's schemas and must return one of the route's declared responses.
 * - a queue consumer, the table-stream consumer, a schedule or the `$default` fallback: one function.
 */

export type SpecEnv<S extends HandlerSpec> = Pick<Env, S['env'][number]>;

type Parsed<T> = T extends z.ZodType ? z.output<T> : Record<string, never>;
type Req<R extends RouteSpec> = R['request'] extends object ? R['request'] : Record<string, never>;
type RequestOf<R extends RouteSpec> = HttpRequest<
  Parsed<Req<R>['headers']>,
  Req<R>['body'] extends z.ZodType ? z.output<Req<R>['body']> : undefined,
  Parsed<Req<R>['query']>,
  Parsed<Req<R>['path']>
>;

/** One of the route's declared responses: the status picks the body's type (none where the spec says `null`). */
export type ResponseOf<R extends RouteSpec> = {
  [Status in keyof R['responses'] & number]: R['responses'][Status] extends z.ZodType
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
 * Off in AWS; on in tests and under `npm start` (CHECK_RESPONSES=1): a body that does not match the route's
 * response schema — what the OpenAPI document promises — fails loudly instead of reaching a client.
 */
function checkResponse(name: string, route: RouteSpec, response: { status: number; body?: unknown }): void {
  if (process.env.CHECK_RESPONSES !== '1') return;
  if (!Object.hasOwn(route.responses, response.status)) throw new Error(`route ${name} answered ${response.status}, which its spec does not declare`);
  const schema = route.responses[response.status];
  if (schema === null || schema === undefined) {
    if (response.body !== undefined) throw new Error(`route ${name} answered ${response.status} with a body its spec does not declare`);
    return;
  }
  const result = schema.safeParse(response.body);
  if (!result.success) {
    throw new Error(
      `route ${name} answered ${response.status} with a body its spec rejects: ${result.error.issues.map((i) => `${i.path.join('.') || '(body)'} ${i.message}`).join('; ')}`,
    );
  }
}

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

export function defineHandler<const S extends HandlerSpec, D>(
  spec: S,
  compose: (env: SpecEnv<S>) => D,
  impl: Implementation<S, D>,
  ...options: HandlerOptions<S>
): HandlerOf<S> {
  const fetchSecret = (options as [{ fetchSecret: SecretFetcher }?])[0]?.fetchSecret;
  const secretKeys = spec.env.filter(isSecretEnvKey);
  loadEnv(spec.env.filter((key) => !isSecretEnvKey(key)));
  const deps = afterSecrets(secretKeys, () => compose(loadEnv(spec.env) as SpecEnv<S>), fetchSecret);

  if (spec.routes) {
    const routes = impl as unknown as Record<string, RouteImpl<RouteSpec, D>>;
    const handlers = Object.entries(spec.routes).map(([name, route]) => {
      const { authenticate, handle } = routes[name]!;
      const handler = httpRoute(
        {
          name,
          ...route.request,
          ...(route.countRejections ? { countRejections: true } : {}),
          ...(authenticate ? { authenticate: async (headers: Record<string, string | undefined>) => authenticate(headers, await deps()) } : {}),
        },
        async (request) => {
          const response = await handle(request as never, await deps());
          checkResponse(name, route, response);
          return response;
        },
      );
      return [routeKey(route), handler] as const;
    });
    // One route key (health serves it on both APIs): no dispatch needed.
    const keys = new Set(handlers.map(([key]) => key));
    const dispatch = keys.size === 1 ? handlers[0]![1] : routeByKey(Object.fromEntries(handlers));
    // Composed before any routing, like a cold start: a configuration that cannot work fails every invocation.
    const http: HttpHandler = async (event, context) => {
      await deps();
      return dispatch(event, context);
    };
    return withCompose(http, deps) as HandlerOf<S>;
  }
  if (spec.consumes) {
    const processRecord = impl as (record: SQSRecord, deps: D) => Promise<void>;
    const consume = sqsConsumer(async (record) => processRecord(record, await deps()));
    return withCompose(consume, deps) as HandlerOf<S>;
  }
  if (spec.consumesTableStream) {
    const processRecord = impl as (record: DynamoDBRecord, deps: D) => Promise<void>;
    const consume = tableStreamConsumer(async (record) => processRecord(record, await deps()));
    return withCompose(consume, deps) as HandlerOf<S>;
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
}
