import type { RouteImpl } from '../define-handler-core';
import { defineHandlerWith, type KindBuilder } from '../define-handler-core';
import { safeParse } from 'zod/v4/core';
import { routeKey } from '../resources';
import type { HandlerSpec, RouteSpec } from '../spec';
import { httpRoute, routeByKey, type HttpHandler } from './route';

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
  const result = safeParse(schema, response.body);
  if (!result.success) {
    throw new Error(
      `route ${name} answered ${response.status} with a body its spec rejects: ${result.error.issues.map((i) => `${i.path.join('.') || '(body)'} ${i.message}`).join('; ')}`,
    );
  }
}

/** One `httpRoute` per route of the spec, dispatched on API Gateway's route key; composed before any routing. */
export const routesHandler: KindBuilder = (spec: HandlerSpec, impl, deps) => {
  const routes = impl as Record<string, RouteImpl<RouteSpec, unknown>>;
  const handlers = Object.entries(spec.routes!).map(([name, route]) => {
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
  return http;
};

/** `defineHandler` (lambdas/define-handler-core.ts) for a spec with routes. */
export const defineHandler = defineHandlerWith({ routes: routesHandler });
