/**
 * The subscriber's end of events out, in the bench process: a plain node:http server on 127.0.0.1 that the bench's
 * one webhook subscription points at. It verifies each request's Standard Webhooks signature (as a customer would,
 * with the `standardwebhooks` package) and records when each event id first arrived (epoch ms), with the event.
 * It answers 204 at once, so the product never retries because of the receiver.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';

export interface ReceivedEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  /** First arrival of this webhook-id at the receiver (epoch ms, the same clock as the load generator's). */
  receivedAt: number;
}

export interface WebhookReceiver {
  url: string;
  /** The subscription's signing secret, once created. */
  setSecret(secret: string): void;
  /** First arrival per event id. */
  events(): ReadonlyMap<string, ReceivedEvent>;
  /** Requests in all (redeliveries of an id included) and those whose signature did not verify. */
  stats(): { requests: number; rejected: number };
  stop(): Promise<void>;
}

const now = (): number => performance.timeOrigin + performance.now();

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const header = (req: IncomingMessage, name: string): string => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : (value ?? '');
};

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received = new Map<string, ReceivedEvent>();
  let verifier: Webhook | undefined;
  let requests = 0;
  let rejected = 0;
  const server = createServer((req, res) => {
    const at = now(); // before the body is read: the request has arrived
    requests++;
    readBody(req)
      .then((body) => {
        const headers = {
          'webhook-id': header(req, 'webhook-id'),
          'webhook-timestamp': header(req, 'webhook-timestamp'),
          'webhook-signature': header(req, 'webhook-signature'),
        };
        let event: { id: string; type: string; data: Record<string, unknown> };
        try {
          if (!verifier) throw new Error('no secret yet');
          event = verifier.verify(body, headers) as typeof event;
        } catch {
          rejected++;
          res.writeHead(401).end();
          return;
        }
        if (!received.has(headers['webhook-id'])) received.set(headers['webhook-id'], { id: event.id, type: event.type, data: event.data, receivedAt: at });
        res.writeHead(204).end();
      })
      .catch(() => res.writeHead(400).end());
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/events`,
    setSecret: (secret) => {
      verifier = new Webhook(secret);
    },
    events: () => received,
    stats: () => ({ requests, rejected }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
