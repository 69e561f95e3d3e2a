import { handler as notFound } from '../../lambdas/handlers/not-found';
import { compiledRoutes, resolveRoute } from '../../lambdas/http/routing';
import { routeByKey } from '../../lambdas/http/route';
import type { HttpRoute } from '../../lambdas/topology';
import { context, httpEvent } from '../support/events';

const routes: HttpRoute[] = [
  { api: 'backoffice', method: 'GET', path: '/v1/tokens/{virtualCardId}', handler: 'health', auth: 'iam' },
  { api: 'backoffice', method: 'POST', path: '/v1/tokens/{virtualCardId}', handler: 'health', auth: 'iam' },
  { api: 'webhooks', method: 'POST', path: '/hook', handler: 'health', auth: 'none' },
];

describe('resolveRoute', () => {
  it('matches a templated path and decodes its parameters', () => {
    const res = resolveRoute('GET', '/v1/tokens/vc%201', undefined, routes);
    expect(res).toEqual({ kind: 'route', match: { route: routes[0], pathParameters: { virtualCardId: 'vc 1' } } });
  });

  it('tells 405 (with every allowed method) from 404', () => {
    expect(resolveRoute('DELETE', '/v1/tokens/x', undefined, routes)).toEqual({ kind: 'method-not-allowed', allow: ['GET', 'POST'] });
    expect(resolveRoute('GET', '/v1/tokens/x/y', undefined, routes)).toEqual({ kind: 'not-found' });
  });

  it('is case-sensitive and scoped to one API when asked', () => {
    expect(resolveRoute('POST', '/HOOK', undefined, routes).kind).toBe('not-found');
    expect(resolveRoute('POST', '/hook', 'backoffice', routes).kind).toBe('not-found');
    expect(resolveRoute('POST', '/hook', 'webhooks', routes).kind).toBe('route');
  });
});

describe('$default handler', () => {
  it('answers 404 NOT_FOUND in the error body for an unknown path', async () => {
    const res = await notFound(httpEvent({ method: 'GET', path: '/nope' }), context());
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(res.body!)).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it('answers 405 with allow for a known path and another method', async () => {
    const res = await notFound(httpEvent({ method: 'POST', path: '/health' }), context());
    expect(res.statusCode).toBe(405);
    expect(res.headers?.allow).toBe('GET');
    expect(JSON.parse(res.body!).error.code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('compiledRoutes', () => {
  it('compiles a route table once and reuses it on every later request', () => {
    const first = compiledRoutes(routes);
    resolveRoute('GET', '/v1/tokens/x', undefined, routes);
    expect(compiledRoutes(routes)).toBe(first);
    expect(first.map((c) => c.regex.source)).toEqual(['^\\/v1\\/tokens\\/([^/]+)$', '^\\/v1\\/tokens\\/([^/]+)$', '^\\/hook$']);
  });
});

describe('routeByKey', () => {
  it('answers 404 for a route key that names an Object.prototype member', async () => {
    const dispatch = routeByKey({ 'GET /health': async () => ({ statusCode: 200, body: '{}' }) });
    const res = await dispatch({ ...httpEvent({ method: 'GET', path: '/x' }), routeKey: 'constructor' }, context());
    expect(res.statusCode).toBe(404);
  });
});
