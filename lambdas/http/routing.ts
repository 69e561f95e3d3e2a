import { type ApiName, type HttpMethod, type HttpRoute, HTTP_ROUTES } from '../topology';

/** Compiles an API Gateway route path (`/v1/tokens/{virtualCardId}`) to a case-sensitive matcher. */
function compile(path: string): { regex: RegExp; names: string[] } {
  const names: string[] = [];
  const pattern = path
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (param?.[1]) {
        names.push(param[1]);
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { regex: new RegExp(`^${pattern}$`), names };
}

/** A malformed %-escape matches no record: keep it raw, so the lookup answers 404 rather than the router a 500. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

interface CompiledRoute {
  route: HttpRoute;
  regex: RegExp;
  names: string[];
}

/** Route tables are static: each is compiled once, on its first request, not on every request. */
const compiledTables = new WeakMap<readonly HttpRoute[], readonly CompiledRoute[]>();

export function compiledRoutes(routes: readonly HttpRoute[]): readonly CompiledRoute[] {
  let compiled = compiledTables.get(routes);
  if (!compiled) {
    compiled = routes.map((route) => ({ route, ...compile(route.path) }));
    compiledTables.set(routes, compiled);
  }
  return compiled;
}

export interface RouteMatch {
  route: HttpRoute;
  pathParameters: Record<string, string>;
}

export type Resolution = { kind: 'route'; match: RouteMatch } | { kind: 'method-not-allowed'; allow: HttpMethod[] } | { kind: 'not-found' };

/**
 * Resolves a request the way API Gateway does, and tells the `$default` fallback whether the path exists with
 * other methods (405 + allow) or not at all (404). `api` undefined = every API (the local gateway serves both).
 */
export function resolveRoute(method: string, rawPath: string, api?: ApiName, routes: readonly HttpRoute[] = HTTP_ROUTES): Resolution {
  const allow = new Set<HttpMethod>();
  for (const { route, regex, names } of compiledRoutes(routes)) {
    if (api && route.api !== api) continue;
    const found = regex.exec(rawPath);
    if (!found) continue;
    if (route.method !== method) {
      allow.add(route.method);
      continue;
    }
    const pathParameters: Record<string, string> = {};
    names.forEach((name, i) => {
      pathParameters[name] = decodePathSegment(found[i + 1] ?? '');
    });
    return { kind: 'route', match: { route, pathParameters } };
  }
  return allow.size > 0 ? { kind: 'method-not-allowed', allow: [...allow].sort() } : { kind: 'not-found' };
}
