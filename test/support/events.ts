import type { HttpEvent } from '../../lambdas/http/route';
import { lambdaContext } from '../../local/lambda-context';

/** A minimal API Gateway v2 event, as the gateway builds it. */
export function httpEvent(
  overrides: {
    method?: string;
    path?: string;
    routeKey?: string;
    headers?: Record<string, string>;
    body?: string;
    isBase64Encoded?: boolean;
    pathParameters?: Record<string, string>;
    queryStringParameters?: Record<string, string>;
  } = {},
): HttpEvent {
  const method = overrides.method ?? 'POST';
  const path = overrides.path ?? '/things';
  return {
    version: '2.0',
    routeKey: overrides.routeKey ?? `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: overrides.headers ?? {},
    ...(overrides.body !== undefined ? { body: overrides.body } : {}),
    isBase64Encoded: overrides.isBase64Encoded ?? false,
    ...(overrides.pathParameters ? { pathParameters: overrides.pathParameters } : {}),
    ...(overrides.queryStringParameters ? { queryStringParameters: overrides.queryStringParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'test',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'req-1',
      routeKey: overrides.routeKey ?? `${method} ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
}

export const context = (name = 'test'): ReturnType<typeof lambdaContext> => lambdaContext(name);
