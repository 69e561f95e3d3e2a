import middy, { type MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from 'zod';
// zod's core parse: route schemas may be classic zod or zod/mini (the hot path's), and neither layer is loaded here.
import { safeParse } from 'zod/v4/core';
import { logger, metrics, MetricUnit, publishMetrics } from '../observability';
import { ApiError, type FieldError, malformedBody, payloadTooLarge, toApiError, unsupportedMediaType, validationFailed } from './errors';

export const MAX_BODY_BYTES = 64 * 1024;

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

export interface RouteOptions<H, B, Q, P> {
  /** Metric dimension and log key for the route (e.g. `notifyVirtualCardChange`). */
  name: string;
  headers?: z.core.$ZodType<H>;
  /** A JSON object body; its presence makes the 413/415/400 body checks apply. */
  body?: z.core.$ZodType<B>;
  query?: z.core.$ZodType<Q>;
  /** Path parameters; a value that fails this schema can match no record, so it answers 404, never 400. */
  path?: z.core.$ZodType<P>;
  /** Runs after the media-type check and before the body is parsed; throws 401/403 ApiErrors. */
  authenticate?: (headers: Record<string, string | undefined>) => void | Promise<void>;
  /** Counted (metric `RejectedRequests`) and logged with paths only: D1 does not retry a 4xx. */
  countRejections?: boolean;
}

export interface HttpRequest<H, B, Q, P> {
  headers: H;
  body: B;
  query: Q;
  path: P;
  event: HttpEvent;
  context: Context;
}

export interface HttpResponse {
  status: number;
  /** Serialised as JSON; omitted (no body) when undefined. */
  body?: unknown;
  headers?: Record<string, string>;
}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json$/;

/** `application/json`, `application/problem+json`…; parameters and case ignored (DESIGN §3). */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return JSON_MEDIA_TYPE.test(mediaType);
}

function bodyBytes(event: HttpEvent): number {
  if (event.body === undefined || event.body === null) return 0;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').length : Buffer.byteLength(event.body, 'utf8');
}

function issuesToFields(issues: readonly z.core.$ZodIssue[], prefix: string): FieldError[] {
  return issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((part) => part !== '').join('.'),
    message: issue.message,
  }));
}

const jsonResult = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResult => ({
  statusCode: status,
  headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
  ...(body === undefined ? {} : { body: JSON.stringify(body) }),
});

export const errorResult = (err: ApiError): HttpResult => jsonResult(err.status, err.toBody(), err.headers);

/**
 * Header names lowercased (the last of two spellings wins), into a prototype-less object: what
 * @middy/http-header-normalizer 7 does with its defaults, for an HTTP API (v2) event, which has no
 * multiValueHeaders. Written here because the package's canonical-name tables cost the hot path's bundles
 * 1.5 KB they never use (bench section 6).
 */
function headerNormalizer(): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    before: (request) => {
      const given = request.event.headers;
      if (!given) return;
      const headers: Record<string, string | undefined> = Object.create(null) as Record<string, string | undefined>;
      for (const key in given) headers[key.toLowerCase()] = given[key];
      request.event.headers = headers;
    },
  };
}

/**
 * DESIGN §3 answers the first failing check in this order: 413 → 415 → authentication → malformed JSON →
 * headers and body schema. Routing (404/405) happened before the handler ran.
 */
function bodyGuard(spec: RouteOptions<unknown, unknown, unknown, unknown>): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    before: async (request) => {
      const event = request.event;
      if (bodyBytes(event) > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
      // Any body must be JSON, even on a route that reads none (DESIGN §3: a body whose media type is not JSON).
      const contentType = event.headers?.['content-type'];
      const hasBody = bodyBytes(event) > 0;
      if ((hasBody || (spec.body && contentType !== undefined)) && !isJsonMediaType(contentType)) throw unsupportedMediaType();
      await spec.authenticate?.(event.headers ?? {});
    },
  };
}

/**
 * Parses the JSON body; anything but a JSON object is the contract's 400 with path "". Written here rather than
 * with @middy/http-json-body-parser 7, which rejects any `__proto__` or `constructor.prototype` key (and overflows
 * its reviver walk on deeply nested bodies) with a 422: a webhook must ignore unknown fields (rule 13), and D1 never
 * retries a 4xx. `JSON.parse` defines `__proto__` as an own data property, never the prototype, and the zod
 * schemas copy out only the keys they declare, so no such key reaches our code.
 */
function jsonBodyParser(): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    before: (request) => {
      const { body: raw, isBase64Encoded } = request.event;
      let body: unknown;
      try {
        body = JSON.parse(isBase64Encoded && raw !== undefined ? Buffer.from(raw, 'base64').toString('utf8') : (raw ?? ''));
      } catch {
        throw malformedBody();
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw malformedBody();
      (request.event as { body: unknown }).body = body;
    },
  };
}

/** The §3 error body for everything a handler throws; 5xx are logged, 4xx are not errors of ours. */
function errorMapper(spec: RouteOptions<unknown, unknown, unknown, unknown>): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: (request) => {
      const apiError = toApiError(request.error);
      if (apiError.status >= 500) {
        logger.error('request failed', { route: spec.name, error: request.error as Error });
      } else if (spec.countRejections && apiError.status !== 404 && apiError.status !== 405) {
        metrics.addMetric('RejectedRequests', MetricUnit.Count, 1);
        // Paths only, never values: a rejected body may carry card data.
        logger.warn('request rejected', {
          route: spec.name,
          status: apiError.status,
          code: apiError.code,
          fields: apiError.fields?.map((f) => f.path),
        });
      }
      request.response = errorResult(apiError);
    },
  };
}

/**
 * One HTTP route handler with the service's conventions: header normalisation, the DESIGN §3 check order,
 * zod validation of headers, query, path and body (every failing field named), the §3 error body, Powertools
 * logger context and metrics. The handler function only maps the valid request to a use case and back.
 */
export function httpRoute<H = Record<string, never>, B = undefined, Q = Record<string, never>, P = Record<string, never>>(
  spec: RouteOptions<H, B, Q, P>,
  fn: (request: HttpRequest<H, B, Q, P>) => Promise<HttpResponse>,
): middy.MiddyfiedHandler<HttpEvent, HttpResult> {
  const anySpec = spec as RouteOptions<unknown, unknown, unknown, unknown>;
  const core = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const path = spec.path ? safeParse(spec.path, event.pathParameters ?? {}) : undefined;
    if (path && !path.success) throw new ApiError(404, 'NOT_FOUND', 'not found');
    const fields: FieldError[] = [];
    const parse = <T>(schema: z.core.$ZodType<T> | undefined, value: unknown, prefix: string): T => {
      if (!schema) return value as T;
      const result = safeParse(schema, value);
      if (result.success) return result.data;
      fields.push(...issuesToFields(result.error.issues, prefix));
      return undefined as T;
    };
    const headers = parse(spec.headers, event.headers ?? {}, 'headers');
    const query = parse(spec.query, event.queryStringParameters ?? {}, 'query');
    const body = parse(spec.body, event.body, '');
    if (fields.length > 0) throw validationFailed(fields);
    const response = await fn({ headers, body, query, path: (path?.data ?? {}) as P, event, context });
    return jsonResult(response.status, response.body, response.headers);
  };
  const chain = middy<HttpEvent, HttpResult>()
    .use(publishMetrics())
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(headerNormalizer())
    .use(bodyGuard(anySpec));
  if (spec.body) chain.use(jsonBodyParser());
  return chain.use(errorMapper(anySpec)).handler(core);
}

/**
 * A Lambda that serves several routes (e.g. the read routes) dispatches on API Gateway's `routeKey`, which the
 * local gateway fills the same way.
 */
export function routeByKey(routes: Record<string, HttpHandler>): HttpHandler {
  return async (event, context) => {
    const route = Object.hasOwn(routes, event.routeKey) ? routes[event.routeKey] : undefined;
    if (!route) return errorResult(new ApiError(404, 'NOT_FOUND', 'no such route'));
    return route(event, context);
  };
}
