import { loadEnv } from '../config/env';
import { errorResult, type HttpEvent, type HttpResult } from '../http/route';
import { methodNotAllowed, routeNotFound } from '../http/errors';
import { resolveRoute } from '../http/routing';

const env = loadEnv(['API_NAME']);

/**
 * API Gateway `$default`: whatever no route matched. A path served with other methods answers 405 with
 * `allow`; anything else 404, both in the DESIGN §3 error body (API Gateway's own 404 has another shape).
 */
export const handler = async (event: HttpEvent): Promise<HttpResult> => {
  const resolution = resolveRoute(event.requestContext.http.method, event.rawPath, env.API_NAME);
  if (resolution.kind === 'method-not-allowed') return errorResult(methodNotAllowed(resolution.allow));
  return errorResult(routeNotFound());
};
