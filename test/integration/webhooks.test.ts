import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { EnvelopeSecretVault, rawAesKeyring } from '../../lambdas/adapters/credential-vault';
import { DynamoDbSubscriptionStore } from '../../lambdas/adapters/dynamodb-subscription-store';
import { SqsWebhookDeliveryQueue } from '../../lambdas/adapters/sqs-queue';
import { loadEnv } from '../../lambdas/config/env';
import { EVENT_TYPES, type EventType, type ServiceEvent } from '../../lambdas/domain/events';
import type { WebhookDelivery } from '../../lambdas/domain/messages';
import { spec as deliverSpec } from '../../lambdas/handlers/deliver-webhook.spec';
import type { HttpEvent, HttpHandler } from '../../lambdas/http/route';
import { UnknownEventId, type EventLog, type EventQuery } from '../../lambdas/ports/events';
import { InvalidRequestField } from '../../lambdas/ports/subscriptions';
import { sqsConsumer } from '../../lambdas/sqs/consumer';
import { replayEvents } from '../../lambdas/use-cases/replay-events';
import { startEventSink, type EventSink, type SinkAttempt } from '../../local/event-sink';
import { lambdaContext } from '../../local/lambda-context';
import { freePort } from '../../local/ports';
import type { SqsHandler } from '../../local/sqs-poller';
import { queuesDrained } from '../support/queues';
import { eventually, TEST_ENV, useTestStack } from '../support/stack';

/**
 * DESIGN §8 webhooks end to end on DynamoDB Local + fauxqs: the real routes through the local gateway, the real
 * delivery consumer (its retry draws fixed at 0, so every retry waits the 1 s floor) polling the real queue, and
 * the verifying event sink of `npm start` as the customer's endpoint. Deliveries are enqueued as the stream
 * publisher enqueues them (attempt 1), so this file does not depend on the publisher.
 */

/** Every delivery message the consumer was handed, in order (attempts, hops, redriven ones). */
const consumed: WebhookDelivery[] = [];

const deliveryConsumer = async (): Promise<SqsHandler> => {
  // Loaded once the stack has set the env (a handler module reads it at import).
  const { compose, deliverRecord } = await import('../../lambdas/handlers/deliver-webhook');
  const deps = { ...compose(loadEnv(deliverSpec.env)), random: () => 0 };
  const consume = sqsConsumer(async (record) => {
    consumed.push(JSON.parse(record.body) as WebhookDelivery);
    await deliverRecord(record, deps);
  });
  return consume as SqsHandler;
};

const stack = useTestStack({
  env: { WEBHOOK_ALLOW_LOOPBACK: 'true' },
  loadConsumer: async (name) =>
    name === 'deliver-webhook' ? deliveryConsumer() : ((await import(`../../lambdas/handlers/${name}`)) as { handler: SqsHandler }).handler,
});

let sink: EventSink;
const SUBSCRIPTIONS = '/v1/event-subscriptions';

beforeAll(async () => {
  sink = await startEventSink();
  // A delivery may legitimately take the 5 s timeout: keep it invisible meanwhile, as the 180 s visibility does in AWS.
  await stack.sqs.send(new SetQueueAttributesCommand({ QueueUrl: stack.resources.queues.webhookDeliveries.url, Attributes: { VisibilityTimeout: '20' } }));
});
afterAll(async () => sink.stop());

// ---------------------------------------------------------------------------------------------------------
// helpers

interface Created {
  subscriptionId: string;
  url: string;
  eventTypes: EventType[];
  description: string | null;
  secret: string;
  createdAt: string;
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(stack.url + path, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function subscribe(name: string, extra: Record<string, unknown> = {}, url = sink.sinkUrl(name)): Promise<Created> {
  const res = await call('POST', SUBSCRIPTIONS, { url, ...extra });
  expect(res.status).toBe(201);
  const created = res.body as Created;
  sink.register(name, [created.secret]);
  return created;
}

let seq = 0;
const newEvent = (type: EventType = 'token.state_changed'): ServiceEvent => ({
  id: `evt_test${++seq}_${Date.now()}`,
  type,
  timestamp: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(), // strictly increasing: `since` cuts between two
  data: { virtualCardId: `vc-${seq}`, issuerCardRefId: 'card-1', from: 'ACTIVE', to: 'SUSPENDED', sequence: seq },
});

const queue = () => new SqsWebhookDeliveryQueue(stack.sqs, stack.resources.queues.webhookDeliveries.url);

/** What the stream publisher does for a matching subscription: attempt 1, now. */
async function publish(subscriptionId: string, event: ServiceEvent, extra: Partial<WebhookDelivery> = {}, delaySeconds = 0): Promise<void> {
  await queue().enqueue([{ subscriptionId, event, attempt: 1, firstAttemptAt: new Date().toISOString(), ...extra }], delaySeconds);
}

const delivered = (name: string, n = 1) => eventually(async () => (sink.events(name).length >= n ? sink.events(name) : undefined), 20_000);

/** The customer's check, with the package a customer would use. */
function verifyWith(secret: string, received: { body: string; headers: Record<string, string> }): unknown {
  return new Webhook(secret).verify(received.body, received.headers);
}

const ids = (attempts: SinkAttempt[]) => attempts.map((a) => a.headers['webhook-id']);

async function subscriptionItems(): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await stack.ddb.send(
    new QueryCommand({
      TableName: process.env.TABLE_NAME!,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'SUBSCRIPTION' },
      ConsistentRead: true,
    }),
  );
  return Items;
}

// ---------------------------------------------------------------------------------------------------------

describe('subscriptions: create, list, delete, rotate', () => {
  it('create → 201 with the secret (shown once), every type by default; GET lists it without any secret; stored sealed', async () => {
    const created = await subscribe('crud', { description: 'core banking' });
    expect(created).toEqual({
      subscriptionId: expect.stringMatching(/^sub_[0-9a-f]{32}$/),
      url: sink.sinkUrl('crud'),
      eventTypes: [...EVENT_TYPES],
      description: 'core banking',
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      createdAt: expect.any(String),
    });

    const list = await call('GET', SUBSCRIPTIONS);
    expect(list.status).toBe(200);
    const { secret, ...withoutSecret } = created;
    expect((list.body as { subscriptions: unknown[] }).subscriptions).toContainEqual(withoutSecret);
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
    expect(JSON.stringify(list.body)).not.toContain(secret.slice('whsec_'.length));

    const { Item } = await stack.ddb.send(
      new GetCommand({ TableName: process.env.TABLE_NAME!, Key: { pk: 'SUBSCRIPTION', sk: `SUB#${created.subscriptionId}` } }),
    );
    expect(Item).toMatchObject({ entity: 'SUBSCRIPTION', subscriptionId: created.subscriptionId, sealedSecret: expect.any(String) });
    const raw = JSON.stringify(Item);
    expect(raw).not.toContain('whsec_');
    expect(raw).not.toContain(secret.slice('whsec_'.length));
    // Sealed in the vault of token PANs, bound to the subscription: it opens with DATA_KEY for this id only.
    const vault = new EnvelopeSecretVault(rawAesKeyring(TEST_ENV.DATA_KEY));
    await expect(vault.open(Item!.sealedSecret as string, created.subscriptionId)).resolves.toBe(secret);
    await expect(new EnvelopeSecretVault(rawAesKeyring(TEST_ENV.DATA_KEY)).open(Item!.sealedSecret as string, 'sub_other')).rejects.toThrow();
  });

  it('eventTypes given → stored and answered as given (each once)', async () => {
    const created = await subscribe('typed', { eventTypes: ['operation.completed', 'token.created', 'token.created'] });
    expect(created.eventTypes).toEqual(['token.created', 'operation.completed']);
    expect(created.description).toBeNull();
  });

  it('delete → 204, then 404; rotate, replay and delete of a deleted or unknown subscription → 404', async () => {
    const created = await subscribe('deleted');
    expect((await call('DELETE', `${SUBSCRIPTIONS}/${created.subscriptionId}`)).status).toBe(204);
    expect((await call('GET', SUBSCRIPTIONS)).body).not.toMatchObject({
      subscriptions: expect.arrayContaining([expect.objectContaining({ subscriptionId: created.subscriptionId })]),
    });
    for (const id of [created.subscriptionId, 'sub_unknown']) {
      expect((await call('DELETE', `${SUBSCRIPTIONS}/${id}`)).status).toBe(404);
      const rotate = await call('POST', `${SUBSCRIPTIONS}/${id}/rotate-secret`);
      expect(rotate).toEqual({ status: 404, body: { error: expect.objectContaining({ code: 'NOT_FOUND' }) } });
      expect((await call('POST', `${SUBSCRIPTIONS}/${id}/replay`, {})).status).toBe(404);
    }
    // The rotation found nothing to rotate: it did not bring the subscription back.
    expect((await subscriptionItems()).some((item) => item.subscriptionId === created.subscriptionId)).toBe(false);
  });

  it('rotate → 200 with a new secret; the old one keeps signing for 24 h, then only the new one', async () => {
    const created = await subscribe('rotated');
    const res = await call('POST', `${SUBSCRIPTIONS}/${created.subscriptionId}/rotate-secret`);
    expect(res.status).toBe(200);
    const { secret } = res.body as { secret: string };
    expect(secret).toMatch(/^whsec_/);
    expect(secret).not.toBe(created.secret);
    const store = new DynamoDbSubscriptionStore(stack.ddb, process.env.TABLE_NAME!);
    const vault = new EnvelopeSecretVault(rawAesKeyring(TEST_ENV.DATA_KEY));
    const open = async (at: Date) => {
      const found = await store.getSigningSecrets(created.subscriptionId, at);
      return Promise.all(found!.sealed.map((s) => vault.open(s, created.subscriptionId)));
    };
    await expect(open(new Date())).resolves.toEqual([secret, created.secret]);
    await expect(open(new Date(Date.now() + 23 * 3600_000))).resolves.toEqual([secret, created.secret]);
    await expect(open(new Date(Date.now() + 24 * 3600_000 + 60_000))).resolves.toEqual([secret]);
  });
});

describe('bad input: 400 naming each field, nothing written', () => {
  it.each([
    ['a URL that is not one', { url: 'not a url' }, ['url']],
    ['http to a non-loopback host', { url: 'http://hooks.example.com/x' }, ['url']],
    ['ftp', { url: 'ftp://127.0.0.1/x' }, ['url']],
    ['an unknown event type', { url: 'https://hooks.example.com/x', eventTypes: ['token.created', 'token.exploded'] }, ['eventTypes.1']],
    ['an empty event type list', { url: 'https://hooks.example.com/x', eventTypes: [] }, ['eventTypes']],
    ['a description over 256 characters', { url: 'https://hooks.example.com/x', description: 'd'.repeat(257) }, ['description']],
    ['everything at once', { url: 'nope', eventTypes: ['x'], description: 'd'.repeat(300) }, ['url', 'eventTypes.0', 'description']],
    ['no url', {}, ['url']],
  ])('%s', async (_label, body, paths) => {
    const before = (await subscriptionItems()).length;
    const res = await call('POST', SUBSCRIPTIONS, body);
    expect(res.status).toBe(400);
    const error = (res.body as { error: { code: string; fields: { path: string }[] } }).error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields.map((f) => f.path).sort()).toEqual([...paths].sort());
    expect((await subscriptionItems()).length).toBe(before);
  });

  it('loopback not allowed (AWS): private, loopback (also through DNS), metadata and IPv4-mapped addresses → 400 on url', async () => {
    const previous = process.env.WEBHOOK_ALLOW_LOOPBACK;
    process.env.WEBHOOK_ALLOW_LOOPBACK = 'false';
    try {
      let handler: HttpHandler | undefined;
      await jest.isolateModulesAsync(async () => {
        handler = ((await import('../../lambdas/handlers/event-subscriptions')) as { handler: HttpHandler }).handler;
      });
      const post = async (body: unknown) => {
        const result = await handler!(apiEvent('POST', SUBSCRIPTIONS, body), lambdaContext('event-subscriptions') as Context);
        return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') as { error: { fields: { path: string; message: string }[] } } };
      };
      const before = (await subscriptionItems()).length;
      for (const url of [
        'https://10.0.0.1/hook',
        'https://192.168.1.10/hook',
        'https://169.254.169.254/latest/meta-data/',
        'https://[fd00:ec2::254]/',
        'https://[::ffff:127.0.0.1]/hook',
        'https://100.64.0.1/hook',
        'https://localhost/hook', // resolves (hosts file) to loopback
        `http://127.0.0.1:${sink.port}/events/x`, // http at all
      ]) {
        const res = await post({ url });
        expect({ url, status: res.status }).toEqual({ url, status: 400 });
        expect(res.body.error.fields).toEqual([{ path: 'url', message: expect.any(String) }]);
      }
      expect((await subscriptionItems()).length).toBe(before);
    } finally {
      process.env.WEBHOOK_ALLOW_LOOPBACK = previous;
    }
  });
});

/** An API Gateway v2 event as the gateway builds it, for a handler module loaded with its own env. */
function apiEvent(method: string, path: string, body: unknown): HttpEvent {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json' },
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: `req-${Date.now()}`,
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

describe('delivery', () => {
  it('end to end: Standard Webhooks headers, the event as body, verified by the customer with standardwebhooks', async () => {
    const sub = await subscribe('e2e');
    const event = newEvent();
    const sentAt = Math.floor(Date.now() / 1000);
    await publish(sub.subscriptionId, event);
    const [received] = await delivered('e2e');
    expect(received!.headers).toEqual({
      'webhook-id': event.id,
      'webhook-timestamp': expect.stringMatching(/^\d+$/),
      'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]+=*$/),
      'content-type': 'application/json',
    });
    expect(Number(received!.headers['webhook-timestamp'])).toBeGreaterThanOrEqual(sentAt - 1);
    expect(verifyWith(sub.secret, received!)).toEqual(event);
    expect(() => verifyWith(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, received!)).toThrow();
  });

  it.each([
    ['HTTP 500 twice', { mode: 'http500', times: 2 }, ['fault:http500', 'fault:http500', 'delivered']],
    ['a hang past the 5 s timeout', { mode: 'hang', times: 1, hangMs: 8000 }, ['fault:hang', 'delivered']],
    ['a closed connection', { mode: 'close', times: 1 }, ['fault:close', 'delivered']],
  ] as const)('%s → retried with the same webhook-id, then delivered', async (label, fault, outcomes) => {
    const name = `retry-${label.replace(/\W+/g, '-')}`;
    const sub = await subscribe(name);
    sink.fault(name, fault);
    const event = newEvent();
    await publish(sub.subscriptionId, event);
    const [received] = await delivered(name);
    expect(verifyWith(sub.secret, received!)).toEqual(event);
    const attempts = sink.attempts(name);
    expect(attempts.map((a) => a.outcome)).toEqual(outcomes);
    expect(new Set(ids(attempts))).toEqual(new Set([event.id]));
    const gaps = attempts.slice(1).map((a, i) => Date.parse(a.receivedAt) - Date.parse(attempts[i]!.receivedAt));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(fault.mode === 'hang' ? 5000 : 900); // the 1 s SQS delay (plus the timeout)
    const mine = consumed.filter((m) => m.event.id === event.id);
    expect(mine.map((m) => m.attempt)).toEqual(outcomes.map((_o, i) => i + 1));
    expect(mine.slice(1).every((m) => m.firstAttemptAt === mine[0]!.firstAttemptAt && m.lastError !== undefined)).toBe(true);
  });

  it('connection refused → retried (same event) until the endpoint comes up, then delivered', async () => {
    const port = await freePort();
    const sub = await subscribe('refused', {}, `http://127.0.0.1:${port}/events/refused`);
    const event = newEvent();
    await publish(sub.subscriptionId, event);
    await eventually(async () => (consumed.filter((m) => m.event.id === event.id).length >= 2 ? true : undefined), 15_000);
    expect(consumed.find((m) => m.event.id === event.id && m.attempt === 2)?.lastError).toBe('connection refused');
    const late = await startEventSink({ port });
    try {
      late.register('refused', [sub.secret]);
      const received = await eventually(async () => late.events('refused')[0], 15_000);
      expect(received.headers['webhook-id']).toBe(event.id);
      expect(verifyWith(sub.secret, received)).toEqual(event);
    } finally {
      await late.stop();
    }
  });

  it('after the 24 h budget a failure parks the delivery in the DLQ; redriven, it gets a fresh budget and is delivered', async () => {
    const sub = await subscribe('parked');
    sink.fault('parked', { mode: 'http500', times: 1 });
    const event = newEvent();
    // Retried for 25 h already: the next failure is past the budget.
    await publish(sub.subscriptionId, event, { attempt: 23, firstAttemptAt: new Date(Date.now() - 25 * 3600_000).toISOString() });
    const dlqUrl = stack.resources.queues.webhookDeliveries.dlqUrl;
    const parked = await eventually(async () => {
      const { Messages = [] } = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      return Messages.find((m) => (JSON.parse(m.Body!) as WebhookDelivery).event.id === event.id);
    }, 15_000);
    const body = JSON.parse(parked.Body!) as WebhookDelivery;
    expect(body).toMatchObject({ subscriptionId: sub.subscriptionId, event, attempt: 23, lastError: 'HTTP 500', parkedAt: expect.any(String) });
    await queuesDrained(stack);
    expect(sink.attempts('parked').map((a) => a.outcome)).toEqual(['fault:http500']); // parked, not retried

    // What `npm run dlq` redrive does: the same body back on the source queue.
    await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.resources.queues.webhookDeliveries.url, MessageBody: parked.Body! }));
    await stack.sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: parked.ReceiptHandle! }));
    const [received] = await delivered('parked');
    expect(received!.headers['webhook-id']).toBe(event.id);
    expect(verifyWith(sub.secret, received!)).toEqual(event);
  });

  it('a redriven delivery that fails again is retried on its fresh budget, not parked at once', async () => {
    const sub = await subscribe('redriven-fails');
    sink.fault('redriven-fails', { mode: 'http500', times: 1 });
    const event = newEvent();
    const old = new Date(Date.now() - 30 * 3600_000).toISOString();
    await publish(sub.subscriptionId, event, { attempt: 30, firstAttemptAt: old, parkedAt: new Date(Date.now() - 3600_000).toISOString() });
    await delivered('redriven-fails');
    expect(sink.attempts('redriven-fails').map((a) => a.outcome)).toEqual(['fault:http500', 'delivered']);
    const retry = consumed.find((m) => m.event.id === event.id && m.parkedAt === undefined)!;
    expect(retry.attempt).toBe(2);
    expect(Date.parse(retry.firstAttemptAt)).toBeGreaterThan(Date.parse(old));
  });

  it("during a rotation's overlap: two signatures, verified with the new secret and with the old one", async () => {
    const sub = await subscribe('rotation');
    const { secret } = (await call('POST', `${SUBSCRIPTIONS}/${sub.subscriptionId}/rotate-secret`)).body as { secret: string };
    sink.register('rotation', [secret]);
    const event = newEvent();
    await publish(sub.subscriptionId, event);
    const [received] = await delivered('rotation');
    const signatures = received!.headers['webhook-signature'].split(' ');
    expect(signatures).toHaveLength(2);
    expect(verifyWith(secret, received!)).toEqual(event);
    expect(verifyWith(sub.secret, received!)).toEqual(event);
    const ts = new Date(Number(received!.headers['webhook-timestamp']) * 1000);
    expect(signatures).toEqual([new Webhook(secret).sign(event.id, ts, received!.body), new Webhook(sub.secret).sign(event.id, ts, received!.body)]);
  });

  it("a deleted subscription's pending deliveries are dropped, never sent", async () => {
    const sub = await subscribe('gone');
    const event = newEvent();
    await publish(sub.subscriptionId, event, {}, 2); // still waiting in the queue when the subscription goes
    expect((await call('DELETE', `${SUBSCRIPTIONS}/${sub.subscriptionId}`)).status).toBe(204);
    await eventually(async () => (consumed.some((m) => m.event.id === event.id) ? true : undefined), 15_000);
    await queuesDrained(stack);
    expect(sink.attempts('gone')).toEqual([]);
    expect(consumed.filter((m) => m.event.id === event.id)).toHaveLength(1); // consumed once, no retry queued
  });

  it("a slow endpoint does not delay another subscription's delivery", async () => {
    const slow = await subscribe('slow');
    const fast = await subscribe('fast');
    sink.fault('slow', { mode: 'hang', times: 1, hangMs: 4000 }); // slow but within the 5 s timeout
    const [slowEvent, fastEvent] = [newEvent(), newEvent()];
    const firstAttemptAt = new Date().toISOString();
    // One batch, slow first: the consumer handles the records in parallel.
    await queue().enqueue([
      { subscriptionId: slow.subscriptionId, event: slowEvent, attempt: 1, firstAttemptAt },
      { subscriptionId: fast.subscriptionId, event: fastEvent, attempt: 1, firstAttemptAt },
    ]);
    await eventually(async () => (sink.pending('slow') === 1 ? true : undefined), 10_000, 10);
    const [received] = await delivered('fast');
    expect(received!.headers['webhook-id']).toBe(fastEvent.id);
    expect(sink.pending('slow')).toBe(1); // the slow one is still being answered
    await queuesDrained(stack);
    expect(consumed.filter((m) => m.event.id === slowEvent.id)).toHaveLength(1); // its 200, late, was a delivery
  });
});

/** A small in-memory EventLog with the port's semantics: oldest first, `after` exclusive, unknown `after` refused. */
function memoryLog(events: ServiceEvent[]): EventLog {
  return {
    append: async () => 'APPENDED',
    list: async (query: EventQuery) => {
      let start = 0;
      if (query.after !== undefined) {
        const at = events.findIndex((e) => e.id === query.after);
        if (at < 0) throw new UnknownEventId();
        start = at + 1;
      }
      if (query.nextToken !== undefined) start = Number(query.nextToken);
      const matching = events
        .slice(start)
        .filter((e) => (query.since === undefined || e.timestamp >= query.since) && (query.type === undefined || e.type === query.type));
      const items = matching.slice(0, query.limit);
      const end = items.length > 0 ? events.indexOf(items[items.length - 1]!) + 1 : events.length;
      return { items, nextToken: items.length === query.limit && end < events.length ? String(end) : null };
    },
  };
}

describe('replay', () => {
  it('re-sends the logged events after the point that the subscription wants, to that subscription only, with the same ids', async () => {
    const created = await subscribe('replay-created', { eventTypes: ['token.created'] });
    const all = await subscribe('replay-all');
    const log = [newEvent('token.created'), newEvent('token.state_changed'), newEvent('token.created'), newEvent('operation.completed')];
    const deps = {
      subscriptions: new DynamoDbSubscriptionStore(stack.ddb, process.env.TABLE_NAME!),
      events: memoryLog(log),
      queue: queue(),
      now: () => new Date(),
    };
    await expect(replayEvents(deps, created.subscriptionId, { after: log[0]!.id })).resolves.toBe(1);
    await delivered('replay-created');
    await queuesDrained(stack);
    expect(sink.events('replay-created').map((e) => e.headers['webhook-id'])).toEqual([log[2]!.id]);
    expect(verifyWith(created.secret, sink.events('replay-created')[0]!)).toEqual(log[2]);
    expect(sink.attempts('replay-all')).toEqual([]);

    await expect(replayEvents(deps, all.subscriptionId, { since: log[1]!.timestamp })).resolves.toBe(3);
    await delivered('replay-all', 3);
    await queuesDrained(stack);
    expect(new Set(sink.events('replay-all').map((e) => e.headers['webhook-id']))).toEqual(new Set(log.slice(1).map((e) => e.id)));
    expect(sink.events('replay-created')).toHaveLength(1);
  });

  it('pages through a long log', async () => {
    const sub = await subscribe('replay-long', { eventTypes: ['token.renewed'] });
    const log = Array.from({ length: 230 }, (_v, i) => newEvent(i % 2 === 0 ? 'token.renewed' : 'token.created'));
    const deps = {
      subscriptions: new DynamoDbSubscriptionStore(stack.ddb, process.env.TABLE_NAME!),
      events: memoryLog(log),
      queue: queue(),
      now: () => new Date(),
    };
    await expect(replayEvents(deps, sub.subscriptionId, {})).resolves.toBe(115);
    await delivered('replay-long', 115);
  });

  it('an unknown `after` is the caller’s mistake on `after`; an unknown subscription is a 404', async () => {
    const sub = await subscribe('replay-bad');
    const deps = {
      subscriptions: new DynamoDbSubscriptionStore(stack.ddb, process.env.TABLE_NAME!),
      events: memoryLog([newEvent()]),
      queue: queue(),
      now: () => new Date(),
    };
    const error = await replayEvents(deps, sub.subscriptionId, { after: 'evt_nope' }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InvalidRequestField);
    expect((error as InvalidRequestField).path).toBe('after');
    await expect(replayEvents(deps, 'sub_unknown', {})).rejects.toMatchObject({ kind: 'NOT_FOUND' });
    const bad = await call('POST', `${SUBSCRIPTIONS}/${sub.subscriptionId}/replay`, { since: 'yesterday', after: '' });
    expect(bad.status).toBe(400);
    expect((bad.body as { error: { fields: { path: string }[] } }).error.fields.map((f) => f.path).sort()).toEqual(['after', 'since']);
  });
});
