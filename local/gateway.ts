import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import type { HttpEvent, HttpHandler } from '../lambdas/http/route';
import { resolveRoute } from '../lambdas/http/routing';
import { FALLBACK_HANDLER, HTTP_ROUTES, routeKey, type HandlerName, type HttpRoute } from '../lambdas/topology';
import { handlerOf } from './handler-module';
import { lambdaContext } from './lambda-context';

/** API Gateway HTTP APIs reject payloads over 10 MB before any Lambda runs. */
const GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export type HandlerLoader = (name: HandlerName) => Promise<HttpHandler>;

/** Loads `lambdas/handlers/<name>` — the module Lambda runs — once, on first use (like a cold start). */
export const loadHandlerModule: HandlerLoader = handlerOf<HttpHandler>;

export interface GatewayOptions {
  port: number;
  host?: string;
  routes?: readonly HttpRoute[];
  loadHandler?: HandlerLoader;
  /** Answers a request before any route when it returns true (the console's static files); never sees the API's paths. */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  log?: (line: string) => void;
}

export interface Gateway {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const TEXT_MEDIA = /^(text\/|application\/([\w.+-]+\+)?(json|xml|x-www-form-urlencoded|javascript))/i;

/**
 * Turns an HTTP request into the API Gateway v2 event Lambda would receive (routeKey, pathParameters, joined
 * headers, base64 for binary bodies), so the same handler modules serve locally, in tests and in AWS.
 */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  route: HttpRoute | undefined,
  pathParameters: Record<string, string> | undefined,
): HttpEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // Names come from the client: collect them in Maps, so `constructor` or `__proto__` are plain keys, never
  // Object.prototype members; Object.fromEntries then defines them as own properties.
  const headerMap = new Map<string, string>();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headerMap.set(name.toLowerCase(), Array.isArray(value) ? value.join(',') : value);
  }
  // Payload 2.0 moves the Cookie header into `cookies`, one entry per cookie, and leaves it out of `headers`.
  const cookieHeader = headerMap.get('cookie');
  headerMap.delete('cookie');
  const cookies =
    cookieHeader
      ?.split(';')
      .map((cookie) => cookie.trim())
      .filter((cookie) => cookie.length > 0) ?? [];
  const headers: Record<string, string> = Object.fromEntries(headerMap);
  const queryMap = new Map<string, string>();
  for (const [name, value] of url.searchParams) {
    const earlier = queryMap.get(name);
    queryMap.set(name, earlier === undefined ? value : `${earlier},${value}`);
  }
  const query: Record<string, string> = Object.fromEntries(queryMap);
  const isText = body.length === 0 || TEXT_MEDIA.test(headers['content-type'] ?? '');
  const method = (req.method ?? 'GET').toUpperCase();
  const key = route ? routeKey(route) : '$default';
  const now = new Date();
  return {
    version: '2.0',
    routeKey: key,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryMap.size > 0 ? { queryStringParameters: query } : {}),
    ...(pathParameters && Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: key,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2): void {
  // Lambda may return a bare value: API Gateway then answers 200 with it as JSON.
  if (typeof result === 'string' || result === null || typeof result !== 'object' || !('statusCode' in result)) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(typeof result === 'string' ? result : JSON.stringify(result));
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  if (result.cookies?.length) headers['set-cookie'] = result.cookies;
  const body = result.body === undefined ? undefined : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  res.writeHead(result.statusCode ?? 200, headers).end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > GATEWAY_MAX_BODY_BYTES) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The local stand-in for both HTTP APIs; requests no route matches go to the `$default` handler, as in AWS. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const routes = options.routes ?? HTTP_ROUTES;
  const loadHandler = options.loadHandler ?? loadHandlerModule;
  const cache = new Map<HandlerName, Promise<HttpHandler>>();
  const handlerFor = (name: HandlerName): Promise<HttpHandler> => {
    let handler = cache.get(name);
    if (!handler) {
      handler = loadHandler(name);
      cache.set(name, handler);
    }
    return handler;
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const started = Date.now();
      try {
        if (options.intercept?.(req, res)) return;
        const body = await readBody(req);
        if (body === undefined) {
          res.writeHead(413, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'Request Entity Too Large' }));
          return;
        }
        const url = new URL(req.url ?? '/', 'http://localhost');
        const resolution = resolveRoute((req.method ?? 'GET').toUpperCase(), url.pathname, undefined, routes);
        const match = resolution.kind === 'route' ? resolution.match : undefined;
        const name = match?.route.handler ?? FALLBACK_HANDLER;
        const event = toApiGatewayEvent(req, body, match?.route, match?.pathParameters);
        const handler = await handlerFor(name);
        const result = await handler(event, lambdaContext(name));
        writeResult(res, result);
        options.log?.(`${req.method} ${url.pathname} → ${res.statusCode} (${Date.now() - started} ms, ${name})`);
      } catch (err) {
        // A Lambda that throws becomes API Gateway's 500 "Internal Server Error".
        options.log?.(`${req.method} ${req.url} → 500: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Internal Server Error' }));
      }
    })();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
