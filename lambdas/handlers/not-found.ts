import { defineHandler } from '../define-handler-core';
import { methodNotAllowed, routeNotFound } from '../http/errors';
import { errorResult, type HttpEvent, type HttpResult } from '../http/route';
import { resolveRoute } from '../http/routing';
import { HTTP_ROUTES, type ApiName, type HttpRoute } from '../topology';
import { spec } from './not-found.spec';

/**
 * API Gateway `$default`: whatever no route matched. A path served with other methods answers 405 with
 * `allow`; anything else 404, both in the DESIGN §3 error body (API Gateway's own 404 has another shape).
 */
export function notFoundHandler(routes: readonly HttpRoute[], api?: ApiName): (event: HttpEvent) => Promise<HttpResult> {
  return async (event) => {
    const resolution = resolveRoute(event.requestContext.http.method, event.rawPath, api, routes);
    if (resolution.kind === 'method-not-allowed') return errorResult(methodNotAllowed(resolution.allow));
    return errorResult(routeNotFound());
  };
}

export const handler = defineHandler(
  spec,
  (env) => notFoundHandler(HTTP_ROUTES, env.API_NAME),
  (event, answer) => answer(event),
);
