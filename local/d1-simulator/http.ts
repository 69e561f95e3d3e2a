/** HTTP plumbing the simulator's endpoints share: bodies, JSON answers and the log of what our service sent. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Json = Record<string, unknown>;
/** An endpoint's answer: HTTP status and JSON body. */
export type Answer = [status: number, body: Json];
export type Log = (line: string) => void;

const MAX_BODY = 1024 * 1024;

export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

export interface RawBody {
  text: string;
  json?: unknown;
  tooLarge: boolean;
}

export async function readBody(req: IncomingMessage): Promise<RawBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY) return { text: '', tooLarge: true };
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return { text, json: JSON.parse(text) as unknown, tooLarge: false };
  } catch {
    return { text, tooLarge: false };
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export function notFound(res: ServerResponse, method: string, path: string): void {
  sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${method} ${path}` } });
}

export interface RequestRecord {
  method: string;
  path: string;
  /** IGW: x-correlation-id and x-issuer-id. COF: x-correlation-id and `authorization` as 'APIKEY ***' / '***' / null. */
  headers: { 'x-correlation-id': string | null; 'x-issuer-id'?: string | null; authorization?: string | null };
  body: unknown;
  /** What the simulator answered; null while held by the `timeout` fault. */
  status: number | null;
  at: string;
  /** When the request reached the simulator (epoch ms), before its body was read: what D1's rate limit counts. */
  receivedAtMs: number;
}

export interface RecordedCall {
  /** Method name for the log line when the request is held open. */
  name: string;
  headers: RequestRecord['headers'];
  /** The answer, or undefined to hold the request open (`timeout` fault) until the client or stop() ends it. */
  handle: (body: RawBody) => Promise<Answer | undefined>;
}

/** Serves one D1 method our service calls, keeping the request in `requests` for `/_sim/requests`. */
export async function serveRecorded(
  req: IncomingMessage,
  res: ServerResponse,
  requests: RequestRecord[],
  log: Log,
  path: string,
  call: RecordedCall,
): Promise<void> {
  const receivedAtMs = Date.now();
  const raw = await readBody(req);
  const record: RequestRecord = {
    method: req.method ?? 'GET',
    path,
    headers: call.headers,
    body: raw.json ?? raw.text,
    status: null,
    at: new Date(receivedAtMs).toISOString(),
    receivedAtMs,
  };
  requests.push(record);
  const result = await call.handle(raw);
  if (!result) return log(`${call.name} held open (timeout fault) x-correlation-id=${record.headers['x-correlation-id']}`);
  record.status = result[0];
  sendJson(res, ...result);
}

/** `allow: POST` with each API's own error body. */
export const methodNotAllowed = (res: ServerResponse, body: Json): void => sendJson(res, 405, body, { allow: 'POST' });
