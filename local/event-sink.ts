/**
 * A signature-verifying webhook receiver for `npm start` and the tests: what a customer's endpoint would be. It
 * listens on 127.0.0.1 only. `POST /events/<name>` verifies the Standard Webhooks signature with the `standardwebhooks`
 * package against the secret(s) registered for <name> and records what arrived; a small control API registers
 * secrets, reads what was received and injects faults:
 *
 *   PUT    /sinks/<name>            {"secret": "whsec_…"} or {"secrets": [...]}   register (replaces) the secrets
 *   GET    /sinks/<name>                     {name, url, secrets: n, pending}      pending = requests held open now
 *   GET    /sinks/<name>/events              {events: [...]}   verified deliveries answered 2xx, with their headers
 *   GET    /sinks/<name>/attempts            {attempts: [...]} every request, with its outcome (faults, rejections)
 *   GET    /sinks/<name>/failures            {failures: [...]} requests whose signature did not verify
 *   POST   /sinks/<name>/faults  {"mode": "http500"|"hang"|"close", "times": n, "hangMs"?: 6000}  the next n answers
 *   DELETE /sinks/<name>                     forget the sink
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export type FaultMode = 'http500' | 'hang' | 'close';

export interface SinkFault {
  mode: FaultMode;
  times: number;
  /** How long `hang` holds the request before answering (longer than the sender's 5 s timeout by default). */
  hangMs?: number;
}

export interface ReceivedWebhook {
  headers: { 'webhook-id': string; 'webhook-timestamp': string; 'webhook-signature': string; 'content-type': string };
  /** The raw body, byte for byte, so a test can verify the signature itself. */
  body: string;
  event: unknown;
  receivedAt: string;
}

export type AttemptOutcome = 'delivered' | 'rejected' | `fault:${FaultMode}`;

export interface SinkAttempt extends Omit<ReceivedWebhook, 'event'> {
  outcome: AttemptOutcome;
  /** Why the signature did not verify (outcome `rejected`). */
  reason?: string;
}

interface Sink {
  secrets: string[];
  events: ReceivedWebhook[];
  attempts: SinkAttempt[];
  faults: SinkFault[];
  pending: number;
}

export interface EventSink {
  url: string;
  port: number;
  /** The URL to subscribe for sink <name>. */
  sinkUrl(name: string): string;
  register(name: string, secrets: string[]): void;
  events(name: string): ReceivedWebhook[];
  attempts(name: string): SinkAttempt[];
  pending(name: string): number;
  fault(name: string, fault: SinkFault): void;
  stop(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const DEFAULT_HANG_MS = 6000;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const header = (req: IncomingMessage, name: string): string => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
};

function json(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** Which secret (if any) verifies the request: Webhook.verify, as a customer's receiver would call it. */
function verify(secrets: readonly string[], body: string, headers: ReceivedWebhook['headers']): { ok: true; event: unknown } | { ok: false; reason: string } {
  if (secrets.length === 0) return { ok: false, reason: 'no secret registered' };
  let reason = 'no secret verified';
  for (const secret of secrets) {
    try {
      return { ok: true, event: new Webhook(secret).verify(body, headers) };
    } catch (err) {
      reason = (err as Error).message;
    }
  }
  return { ok: false, reason };
}

export async function startEventSink(options: { port?: number; host?: string; log?: (line: string) => void } = {}): Promise<EventSink> {
  const sinks = new Map<string, Sink>();
  const sink = (name: string): Sink => {
    let s = sinks.get(name);
    if (!s) {
      s = { secrets: [], events: [], attempts: [], faults: [], pending: 0 };
      sinks.set(name, s);
    }
    return s;
  };
  const held = new Set<NodeJS.Timeout>();

  async function receive(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const s = sink(name);
    const body = await readBody(req);
    const headers = {
      'webhook-id': header(req, 'webhook-id'),
      'webhook-timestamp': header(req, 'webhook-timestamp'),
      'webhook-signature': header(req, 'webhook-signature'),
      'content-type': header(req, 'content-type'),
    };
    const receivedAt = new Date().toISOString();
    const fault = s.faults[0];
    if (fault) {
      if (--fault.times <= 0) s.faults.shift();
      s.attempts.push({ headers, body, receivedAt, outcome: `fault:${fault.mode}` });
      options.log?.(`${name}: ${headers['webhook-id']} → fault ${fault.mode}`);
      if (fault.mode === 'close') {
        req.socket.destroy();
        return;
      }
      if (fault.mode === 'http500') return json(res, 500, { error: 'injected fault' });
      s.pending++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          held.delete(timer);
          resolve();
        }, fault.hangMs ?? DEFAULT_HANG_MS);
        held.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          held.delete(timer);
          resolve();
        });
      });
      s.pending--;
      if (!res.writableEnded && !res.destroyed) json(res, 200, {});
      return;
    }
    const verdict = verify(s.secrets, body, headers);
    if (!verdict.ok) {
      s.attempts.push({ headers, body, receivedAt, outcome: 'rejected', reason: verdict.reason });
      options.log?.(`${name}: ${headers['webhook-id']} rejected (${verdict.reason})`);
      return json(res, 400, { error: verdict.reason });
    }
    s.attempts.push({ headers, body, receivedAt, outcome: 'delivered' });
    s.events.push({ headers, body, event: verdict.event, receivedAt });
    options.log?.(`${name}: ${headers['webhook-id']} verified`);
    json(res, 204);
  }

  async function control(name: string, rest: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const s = sink(name);
    const route = `${req.method ?? 'GET'} ${rest}`;
    switch (route) {
      case 'PUT ': {
        const body = JSON.parse((await readBody(req)) || '{}') as { secret?: unknown; secrets?: unknown };
        const secrets = Array.isArray(body.secrets) ? body.secrets : [body.secret];
        if (secrets.length === 0 || !secrets.every((v) => typeof v === 'string' && v.length > 0))
          return json(res, 400, { error: 'secret or secrets required' });
        s.secrets = secrets as string[];
        return json(res, 200, { name, url: sinkUrl(name), secrets: s.secrets.length });
      }
      case 'GET ':
        return json(res, 200, { name, url: sinkUrl(name), secrets: s.secrets.length, pending: s.pending });
      case 'DELETE ':
        sinks.delete(name);
        return json(res, 204);
      case 'GET /events':
        return json(res, 200, { events: s.events });
      case 'GET /attempts':
        return json(res, 200, { attempts: s.attempts });
      case 'GET /failures':
        return json(res, 200, { failures: s.attempts.filter((a) => a.outcome === 'rejected') });
      case 'POST /faults': {
        const body = JSON.parse((await readBody(req)) || '{}') as Partial<SinkFault>;
        if (!['http500', 'hang', 'close'].includes(body.mode as string) || !Number.isInteger(body.times) || (body.times as number) < 1) {
          return json(res, 400, { error: 'mode (http500|hang|close) and times ≥ 1 required' });
        }
        s.faults.push({ mode: body.mode!, times: body.times!, ...(typeof body.hangMs === 'number' ? { hangMs: body.hangMs } : {}) });
        return json(res, 200, { faults: s.faults });
      }
      default:
        return json(res, 404, { error: 'no such route' });
    }
  }

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://sink').pathname;
    const events = /^\/events\/([\w.-]{1,64})$/.exec(path);
    const controlMatch = /^\/sinks\/([\w.-]{1,64})(\/[a-z]+)?$/.exec(path);
    const work =
      events && req.method === 'POST'
        ? receive(events[1]!, req, res)
        : controlMatch
          ? control(controlMatch[1]!, controlMatch[2] ?? '', req, res)
          : Promise.resolve(json(res, 404, { error: 'no such route' }));
    work.catch((err: unknown) => {
      if (!res.headersSent && !res.destroyed) json(res, 400, { error: (err as Error).message });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  const sinkUrl = (name: string): string => `${url}/events/${name}`;

  return {
    url,
    port,
    sinkUrl,
    register: (name, secrets) => {
      sink(name).secrets = [...secrets];
    },
    events: (name) => [...sink(name).events],
    attempts: (name) => [...sink(name).attempts],
    pending: (name) => sink(name).pending,
    fault: (name, fault) => {
      sink(name).faults.push({ ...fault });
    },
    async stop() {
      held.forEach((timer) => clearTimeout(timer));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
