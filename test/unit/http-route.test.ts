import * as z from 'zod';
import { DomainError } from '../../lambdas/domain/errors';
import { forbidden, unauthorized } from '../../lambdas/http/errors';
import { httpRoute, isJsonMediaType, MAX_BODY_BYTES, type HttpResult } from '../../lambdas/http/route';
import { context, httpEvent } from '../support/events';

const calls: unknown[] = [];

/** A route defined here only: the stack is tested on its own, no placeholder route is shipped. */
const thingRoute = httpRoute(
  {
    name: 'createThing',
    headers: z.object({ 'x-correlation-id': z.string().min(1).max(64) }),
    body: z.object({
      name: z.string().min(1).max(5),
      size: z.number().int(),
      owner: z.object({ id: z.string() }),
    }),
    authenticate: (headers) => {
      if (headers.authorization === undefined) throw unauthorized();
      if (headers.authorization !== 'APIKEY good') throw forbidden('wrong key');
    },
  },
  async (request) => {
    calls.push(request.body);
    return { status: 201, body: { received: request.body, correlationId: request.headers['x-correlation-id'] } };
  },
);

const validHeaders = { 'content-type': 'application/json', authorization: 'APIKEY good', 'x-correlation-id': 'c-1' };
const validBody = JSON.stringify({ name: 'a', size: 1, owner: { id: 'o' } });

async function call(headers: Record<string, string>, body?: string, extra: Parameters<typeof httpEvent>[0] = {}): Promise<HttpResult & { json: any }> {
  const result = await thingRoute(httpEvent({ headers, ...(body !== undefined ? { body } : {}), ...extra }), context());
  return { ...result, json: result.body ? JSON.parse(result.body) : undefined };
}

beforeEach(() => {
  calls.length = 0;
});

describe('httpRoute check order (DESIGN §3)', () => {
  it('passes a valid request to the handler with the parsed body and strips unknown fields', async () => {
    const res = await call(validHeaders, JSON.stringify({ name: 'a', size: 1, owner: { id: 'o', extra: 1 }, other: true }));
    expect(res.statusCode).toBe(201);
    expect(res.headers?.['content-type']).toBe('application/json');
    expect(res.json).toEqual({ received: { name: 'a', size: 1, owner: { id: 'o' } }, correlationId: 'c-1' });
  });

  it('answers 413 for a body over 64 KiB before looking at media type or credentials', async () => {
    const res = await call({ 'content-type': 'text/plain' }, 'x'.repeat(MAX_BODY_BYTES + 1));
    expect(res.statusCode).toBe(413);
    expect(res.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(calls).toHaveLength(0);
  });

  it('counts base64 bodies by their decoded size', async () => {
    const body = Buffer.alloc(MAX_BODY_BYTES, 'a').toString('base64');
    const res = await call(validHeaders, body, { isBase64Encoded: true });
    expect(res.statusCode).not.toBe(413);
  });

  it('answers 415 for a non-JSON media type before checking credentials', async () => {
    const res = await call({ 'content-type': 'text/plain' }, validBody);
    expect(res.statusCode).toBe(415);
    expect(res.json.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers 415 for a body without content-type', async () => {
    const res = await call({ authorization: 'APIKEY good' }, validBody);
    expect(res.statusCode).toBe(415);
  });

  it('accepts JSON media types whatever their case and parameters', async () => {
    const res = await call({ ...validHeaders, 'Content-Type': 'Application/JSON; charset=UTF-8' }, validBody);
    expect(res.statusCode).toBe(201);
  });

  it('answers 401 before parsing a malformed body, and 403 for a wrong credential', async () => {
    expect((await call({ 'content-type': 'application/json' }, '{nope')).statusCode).toBe(401);
    const forbiddenRes = await call({ 'content-type': 'application/json', authorization: 'APIKEY bad' }, '{nope');
    expect(forbiddenRes.statusCode).toBe(403);
    expect(forbiddenRes.json.error.code).toBe('FORBIDDEN');
  });

  it.each([['{nope'], ['[1,2]'], ['"text"'], ['null'], ['42'], ['']])('answers 400 with path "" for malformed or non-object JSON %p', async (body) => {
    const res = await call(validHeaders, body);
    expect(res.statusCode).toBe(400);
    expect(res.json.error.code).toBe('VALIDATION_FAILED');
    expect(res.json.error.fields).toEqual([{ path: '', message: expect.any(String) }]);
  });

  it('names every failing header and body field, nested paths dotted', async () => {
    const res = await call(
      { 'content-type': 'application/json', authorization: 'APIKEY good' },
      JSON.stringify({ name: 'toolong', size: '1', owner: { id: 7 } }),
    );
    expect(res.statusCode).toBe(400);
    const paths = res.json.error.fields.map((f: { path: string }) => f.path).sort();
    expect(paths).toEqual(['headers.x-correlation-id', 'name', 'owner.id', 'size']);
    for (const field of res.json.error.fields) expect(typeof field.message).toBe('string');
    expect(calls).toHaveLength(0);
  });
});

describe('httpRoute error mapping', () => {
  const failing = (err: unknown) =>
    httpRoute({ name: 'failing' }, async () => {
      throw err;
    });

  it.each([
    ['NOT_FOUND', 404],
    ['TOKEN_DELETED', 409],
    ['IDEMPOTENCY_KEY_REUSED', 422],
    ['UPSTREAM_ERROR', 502],
    ['UNAVAILABLE', 503],
  ] as const)('maps domain error %s to %i with the same code', async (kind, status) => {
    const res = await failing(new DomainError(kind, 'x'))(httpEvent({ method: 'GET' }), context());
    expect(res.statusCode).toBe(status);
    expect(JSON.parse(res.body!).error.code).toBe(kind);
  });

  it('answers 500 INTERNAL without leaking the message of an unexpected error', async () => {
    const res = await failing(new Error('secret detail 4111111111111111'))(httpEvent({ method: 'GET' }), context());
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('secret');
    expect(JSON.parse(res.body!).error.code).toBe('INTERNAL');
  });

  it('answers 404 (never 400) when a path parameter fails its schema, and sends no body for 204', async () => {
    const route = httpRoute({ name: 'byId', path: z.object({ id: z.string().max(3) }) }, async () => ({ status: 204 }));
    const notFound = await route(httpEvent({ method: 'GET', pathParameters: { id: 'too-long' } }), context());
    expect(notFound.statusCode).toBe(404);
    const noContent = await route(httpEvent({ method: 'GET', pathParameters: { id: 'ok' } }), context());
    expect(noContent.statusCode).toBe(204);
    expect(noContent.body).toBeUndefined();
  });

  it('names query parameters as query.<name>', async () => {
    const route = httpRoute({ name: 'list', query: z.object({ limit: z.coerce.number().int().min(1).max(100).optional() }) }, async (r) => ({
      status: 200,
      body: r.query,
    }));
    const bad = await route(httpEvent({ method: 'GET', queryStringParameters: { limit: '0' } }), context());
    expect(JSON.parse(bad.body!).error.fields[0].path).toBe('query.limit');
    const good = await route(httpEvent({ method: 'GET', queryStringParameters: { limit: '5' } }), context());
    expect(JSON.parse(good.body!)).toEqual({ limit: 5 });
  });
});

describe('isJsonMediaType', () => {
  it.each([
    ['application/json', true],
    ['application/json;charset=utf-8', true],
    ['APPLICATION/JSON', true],
    ['application/problem+json', true],
    ['text/json', false],
    ['application/jsonx', false],
    ['text/plain', false],
    [undefined, false],
  ])('%p → %p', (value, expected) => {
    expect(isJsonMediaType(value)).toBe(expected);
  });
});
