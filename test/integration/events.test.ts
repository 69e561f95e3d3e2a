import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import type { ServiceEvent } from '../../lambdas/domain/events';
import { redactPans } from '../../lambdas/domain/card-data';
import type { ErrorBody, Operation } from '../support/contract-types';
import { issuerRoutes } from '../support/routes';
import { useStackWithSimulator } from '../support/simulator';
import { eventually, TEST_ENV } from '../support/stack';
import { DynamoDbNetworkTokenStore } from '../../lambdas/adapters/dynamodb-network-token-store';
import { Webhook } from 'standardwebhooks';
import { startEventSink, type EventSink } from '../../local/event-sink';
import { startEventBridgeStandIn, type EventBridgeStandIn } from '../support/eventbridge';
import type { StreamHandler } from '../../local/stream-poller';

/**
 * Events out (DESIGN §8) from the table's change stream, end to end on the real local stack: a callback or an
 * operation → DynamoDB Local → its stream → the local stream poller → publish-events → the event log, read back
 * through `GET /v1/events`. The only test hook is a pass-through around the real publisher that can make it
 * crash once after its work is done (a Lambda dying before it reports the batch).
 */

let crashesLeft = 0;

// The publisher puts every event on "the bus" too: an EventBridge stand-in the real SDK client reaches over HTTP.
// Registered before the stack's own hook, so the env is there when the handler modules load.
let bus: EventBridgeStandIn;
beforeAll(async () => {
  bus = await startEventBridgeStandIn();
  process.env.EVENT_BUS_NAME = 'token-lifecycle-test-bus';
  process.env.AWS_ENDPOINT_URL_EVENTBRIDGE = bus.url;
});
afterAll(async () => {
  await bus.stop();
  delete process.env.EVENT_BUS_NAME;
  delete process.env.AWS_ENDPOINT_URL_EVENTBRIDGE;
});
const publisherCrashes: string[] = [];

const { d1, stack } = useStackWithSimulator({
  d1BaseUrlEnv: 'D1_ISSUER_BASE_URL',
  env: { D1_RETRY_BASE_DELAY_MS: '200', D1_MAX_ATTEMPTS: '3', D1_TIMEOUT_MS: '500', WEBHOOK_ALLOW_LOOPBACK: 'true' },
  streamConsumers: [{ handler: 'publish-events', batchSize: 100, retryAttempts: -1 }],
  loadStreamConsumer: async (name) => {
    const real = ((await import(`../../lambdas/handlers/${name}`)) as { handler: StreamHandler }).handler;
    return async (event: DynamoDBStreamEvent, context) => {
      const result = await real(event, context);
      if (crashesLeft > 0 && event.Records.some((r) => r.dynamodb?.NewImage?.entity?.S === 'TOKEN')) {
        crashesLeft--;
        publisherCrashes.push(event.Records.map((r) => r.dynamodb?.SequenceNumber).join(','));
        throw new Error('publisher crashed after publishing, before reporting the batch');
      }
      return result;
    };
  },
});

const { getJson, finalOperation, tokenWhen } = issuerRoutes(() => stack.url);
const uid = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;

/** Every event in the log, oldest first, following nextToken. */
async function allEvents(query = ''): Promise<ServiceEvent[]> {
  const events: ServiceEvent[] = [];
  let nextToken: string | null = null;
  do {
    const sep = query ? '&' : '';
    const page: { status: number; body: { events: ServiceEvent[]; nextToken: string | null } } = await getJson(
      `/v1/events?limit=100${sep}${query}${nextToken ? `&nextToken=${encodeURIComponent(nextToken)}` : ''}`,
    );
    expect(page.status).toBe(200);
    events.push(...page.body.events);
    nextToken = page.body.nextToken;
  } while (nextToken);
  return events;
}

const ofToken = (events: ServiceEvent[], vc: string) => events.filter((e) => e.type.startsWith('token.') && e.data.virtualCardId === vc);

/** The log once it holds `count` events for the token (the log shows events after a 2 s settle window). */
async function tokenEvents(vc: string, count: number): Promise<ServiceEvent[]> {
  return eventually(async () => {
    const events = ofToken(await allEvents(), vc);
    return events.length >= count ? events : undefined;
  }, 15_000);
}

async function callback(card: string, vc: string, action: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await d1.simCallback({ issuerCardRefId: card, virtualCardId: vc, action, source: 'WALLET', ...extra });
  expect(res.statuses).toEqual([200]);
}

async function suspend(card: string, vc: string): Promise<Operation> {
  const res = await fetch(`${stack.url}/v1/lcm-operations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as Operation;
}

describe('events of token changes', () => {
  it('publishes token.created, then token.state_changed for an operation of ours, then operation.completed', async () => {
    const card = uid('card');
    const vc = uid('vc');
    await d1.seedCard(card, [vc]);
    const op = await suspend(card, vc);
    expect((await finalOperation(op.operationId)).status).toBe('SUCCEEDED');
    await d1.quiet();

    const events = await tokenEvents(vc, 2);
    expect(events.map((e) => e.type)).toEqual(['token.created', 'token.state_changed']);
    const [created, changed] = events as [ServiceEvent, ServiceEvent];
    expect(created.data).toEqual({
      virtualCardId: vc,
      issuerCardRefId: card,
      state: 'ACTIVE',
      walletProviderId: expect.any(String),
      source: 'WALLET',
      sequence: 1,
    });
    expect(changed.data).toEqual({
      virtualCardId: vc,
      issuerCardRefId: card,
      from: 'ACTIVE',
      to: 'SUSPENDED',
      action: 'SUSPEND',
      source: 'ISSUER',
      operationId: op.operationId,
      sequence: 2,
    });
    for (const e of events) {
      expect(e.id).toMatch(/^evt_[A-Za-z0-9_-]{26}$/);
      expect(e.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    }

    const completed = await eventually(async () => (await allEvents('type=operation.completed')).find((e) => e.data.operationId === op.operationId), 15_000);
    expect(completed.data).toMatchObject({ operationId: op.operationId, status: 'SUCCEEDED', action: 'SUSPEND', scope: 'TOKEN', virtualCardId: vc });
    expect(completed.data.tokens).toEqual([expect.objectContaining({ virtualCardId: vc, outcome: 'SUCCEEDED' })]);
  });

  it('publishes renewals, and nothing for duplicate, failed and ignored callbacks', async () => {
    const card = uid('card');
    const vc = uid('vc');
    await d1.seedCard(card, [vc]);
    const cid = randomUUID();
    await callback(card, vc, 'RENEW', { correlationId: cid });
    await callback(card, vc, 'RENEW', { correlationId: cid }); // duplicate
    await callback(card, vc, 'SUSPEND', { errorCode: 221 }); // failed
    await callback(card, vc, 'SOMETHING_NEW'); // ignored (unknown action)
    await tokenWhen(vc, (t) => t.renewals === 1);
    await d1.quiet();
    // A later change, so once it is in the log every earlier one is too (same token: published in order).
    await callback(card, vc, 'DELETE');
    const events = await tokenEvents(vc, 3);
    expect(events.map((e) => e.type)).toEqual(['token.created', 'token.renewed', 'token.state_changed']);
    expect(events[1]!.data).toMatchObject({ renewals: 1, errorCode: null });
    expect(events[2]!.data).toMatchObject({ from: 'ACTIVE', to: 'DELETED', action: 'DELETE', source: 'WALLET', operationId: null });
    // Sequences increase with the token's changes (failed and ignored callbacks use up versions: gaps are fine).
    const sequences = events.map((e) => e.data.sequence as number);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
    expect(new Set(sequences).size).toBe(sequences.length);
  });

  it("keeps each token's events in order and equal to its history, whatever order the callbacks arrive in", async () => {
    const card = uid('card');
    const vcs = [uid('vc'), uid('vc'), uid('vc')];
    await d1.seedCard(card, vcs);
    const actions = ['SUSPEND', 'RESUME', 'SUSPEND', 'RESUME', 'RENEW', 'SUSPEND'];
    const sends = vcs.flatMap((vc) => actions.map(() => vc));
    // Interleaved across tokens at random; the queue and the parallel consumers reorder them further.
    sends.sort(() => Math.random() - 0.5);
    const next = new Map(vcs.map((vc) => [vc, [...actions]]));
    for (const vc of sends) await callback(card, vc, next.get(vc)!.shift()!);
    await d1.quiet();
    const { history, getToken } = issuerRoutes(() => stack.url);
    for (const vc of vcs) {
      // What the history says changed the token: each applied entry whose state differs from the one before it.
      const applied = (await history(vc)).filter((h) => h.outcome === 'APPLIED');
      const transitions = applied.slice(1).flatMap((h, i) => (h.stateAfter !== applied[i]!.stateAfter ? [[applied[i]!.stateAfter, h.stateAfter]] : []));
      const renewals = applied.filter((h) => h.action === 'RENEW').length;
      const token = await getToken(vc);
      const events = await eventually(async () => {
        const seen = ofToken(await allEvents(), vc);
        return seen.length === 1 + transitions.length + renewals ? seen : undefined;
      }, 15_000);
      const sequences = events.map((e) => e.data.sequence as number);
      expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
      const changes = events.filter((e) => e.type === 'token.state_changed');
      expect(changes.map((e) => [e.data.from, e.data.to])).toEqual(transitions);
      // A chain: each change starts where the one before ended, and the last ends where the token is.
      const states = [events[0]!.data.state, ...changes.map((e) => e.data.to)];
      changes.forEach((e, i) => expect(e.data.from).toBe(states[i]));
      expect(states[states.length - 1]).toBe(token.state);
    }
  });
});

describe('events of network-token changes', () => {
  async function tokenUpdate(body: Record<string, unknown>): Promise<void> {
    const res = await fetch(`${stack.url}/tsh-cof/notify-token-update`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `APIKEY ${TEST_ENV.TR_API_KEY}`, 'x-correlation-id': randomUUID() },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(204);
  }
  const ofNetworkToken = (events: ServiceEvent[], tokenId: string) => events.filter((e) => e.type.startsWith('network_token.') && e.data.tokenId === tokenId);

  it('publishes network_token.updated naming what changed, and credentials_dropped when new digits drop the stored PAN', async () => {
    const tokenId = uid('nt');
    await tokenUpdate({ tokenId, merchantId: 'm-1', lastUpdateTimestamp: '2026-03-01T08:00:00Z', tokenState: 'ACTIVE', tokenLastDigits: '1234' });
    const store = new DynamoDbNetworkTokenStore(stack.ddb, stack.resources.env.TABLE_NAME!);
    const stored = await eventually(async () => (await store.get(tokenId)) ?? undefined);
    // Credentials as Create Transaction stores them (sealed; the blob's content does not matter to the stream).
    expect(await store.storeCredentials(tokenId, 'c2VhbGVk', stored.version)).toBe('SAVED');
    await tokenUpdate({ tokenId, merchantId: 'm-1', lastUpdateTimestamp: '2026-03-01T09:00:00Z', tokenLastDigits: '9999' });
    await tokenUpdate({ tokenId, merchantId: 'm-1', lastUpdateTimestamp: '2026-03-01T07:00:00Z', tokenLastDigits: '0000' }); // stale: nothing
    const events = await eventually(async () => {
      const seen = ofNetworkToken(await allEvents(), tokenId);
      return seen.length >= 4 ? seen : undefined;
    }, 15_000);
    expect(events.map((e) => [e.type, e.data.changed ?? e.data.reason])).toEqual([
      ['network_token.updated', ['state', 'tokenLastDigits', 'lastUpdateTimestamp']],
      ['network_token.updated', ['tokenPanStored']],
      ['network_token.updated', ['tokenLastDigits', 'lastUpdateTimestamp', 'tokenPanStored']],
      ['network_token.credentials_dropped', 'LAST_DIGITS_CHANGED'],
    ]);
    expect(events[2]!.data).toMatchObject({ tokenId, tokenLastDigits: '9999', tokenPanStored: false });
    expect(JSON.stringify(events)).not.toContain('c2VhbGVk');
    await d1.quiet();
    expect(ofNetworkToken(await allEvents(), tokenId)).toHaveLength(4);
  });
});

describe('the event log', () => {
  it('holds each event exactly once when the publisher crashes after publishing, with the same id', async () => {
    const card = uid('card');
    const vc = uid('vc');
    crashesLeft = 1;
    await d1.seedCard(card, [vc]);
    await d1.quiet();
    expect(publisherCrashes.length).toBe(1);
    const events = await tokenEvents(vc, 1);
    expect(events.map((e) => e.type)).toEqual(['token.created']);
    // The raw log: one item per event id, however often the change was handed over.
    const { Items = [] } = await stack.ddb.send(
      new ScanCommand({ TableName: stack.resources.env.TABLE_NAME, FilterExpression: 'entity = :e', ExpressionAttributeValues: { ':e': 'EVENT_LOG' } }),
    );
    const ids = Items.map((item) => JSON.parse(String(item.body)) as ServiceEvent)
      .filter((e) => e.data.virtualCardId === vc)
      .map((e) => e.id);
    expect(ids).toEqual([events[0]!.id]);
  });

  it('pages with nextToken and resumes after an event id, and filters by type', async () => {
    const card = uid('card');
    const vcs = [uid('vc'), uid('vc'), uid('vc')];
    await d1.seedCard(card, vcs);
    await d1.quiet();
    const all = await eventually(async () => {
      const events = await allEvents();
      return vcs.every((vc) => ofToken(events, vc).length === 1) ? events : undefined;
    }, 15_000);
    // Small pages give the same sequence as one big one.
    const paged: ServiceEvent[] = [];
    let nextToken: string | null = null;
    do {
      const page: { status: number; body: { events: ServiceEvent[]; nextToken: string | null } } = await getJson(
        `/v1/events?limit=2${nextToken ? `&nextToken=${encodeURIComponent(nextToken)}` : ''}`,
      );
      expect(page.body.events.length).toBeLessThanOrEqual(2);
      paged.push(...page.body.events);
      nextToken = page.body.nextToken;
    } while (nextToken);
    expect(paged.map((e) => e.id).slice(0, all.length)).toEqual(all.map((e) => e.id));
    // after=<id>: exactly what follows it.
    const first = ofToken(all, vcs[0]!)[0]!;
    const after = await allEvents(`after=${first.id}`);
    const expected = all.slice(all.findIndex((e) => e.id === first.id) + 1).map((e) => e.id);
    expect(after.map((e) => e.id).slice(0, expected.length)).toEqual(expected);
    expect(after.some((e) => e.id === first.id)).toBe(false);
    // type filter
    const created = await allEvents('type=token.created');
    expect(created.every((e) => e.type === 'token.created')).toBe(true);
    expect(vcs.every((vc) => created.some((e) => e.data.virtualCardId === vc))).toBe(true);
  });

  it('answers 400 naming the field for a bad query, and for an unknown event id', async () => {
    for (const [query, field] of [
      ['limit=0', 'query.limit'],
      ['limit=101', 'query.limit'],
      ['type=token.exploded', 'query.type'],
      ['nextToken=bogus', 'query.nextToken'],
      ['after=evt_nothing_here', 'query.after'],
    ] as const) {
      const res = await getJson<ErrorBody>(`/v1/events?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body.error.fields?.map((f) => f.path)).toContain(field);
    }
  });

  it('puts every logged event on the EventBridge bus (source token-lifecycle, detail-type = type), retrying a refused entry', async () => {
    bus.refuseNext(1);
    const card = uid('card');
    const vc = uid('vc');
    await d1.seedCard(card, [vc]);
    await d1.quiet();
    const logged = await allEvents();
    await eventually(async () => (logged.every((e) => bus.entries.some((b) => JSON.parse(b.Detail!).id === e.id)) ? true : undefined), 15_000);
    for (const entry of bus.entries) {
      const detail = JSON.parse(entry.Detail!) as ServiceEvent;
      expect({ bus: entry.EventBusName, source: entry.Source, type: entry.DetailType }).toEqual({
        bus: 'token-lifecycle-test-bus',
        source: 'token-lifecycle',
        type: detail.type,
      });
    }
    // The refused put was retried (the stream record failed and came back): the new token's event is on the bus.
    expect(bus.entries.some((b) => (JSON.parse(b.Detail!) as ServiceEvent).data.virtualCardId === vc)).toBe(true);
  });

  it('carries no card data: no PAN-like digit run in any event', async () => {
    await d1.quiet();
    const events = await allEvents();
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(redactPans(JSON.stringify(e))).toBe(JSON.stringify(e));
  });
});

describe('webhooks from committed changes', () => {
  let sink: EventSink;
  beforeAll(async () => {
    sink = await startEventSink({ port: 0 });
  });
  afterAll(async () => sink.stop());

  const postJson = (path: string, body: unknown) =>
    fetch(`${stack.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  /** Subscribes sink `name` (201) and registers the secret shown in the answer with the sink. */
  async function subscribe(name: string, eventTypes?: string[]): Promise<{ subscriptionId: string; secret: string }> {
    const res = await postJson('/v1/event-subscriptions', { url: sink.sinkUrl(name), ...(eventTypes ? { eventTypes } : {}) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { subscriptionId: string; secret: string };
    sink.register(name, [created.secret]);
    return created;
  }

  it('delivers a suspension as a signed token.state_changed that standardwebhooks verifies, only to subscriptions that want it', async () => {
    const all = await subscribe('all');
    await subscribe('renewals', ['token.renewed']);
    const card = uid('card');
    const vc = uid('vc');
    await d1.seedCard(card, [vc]);
    const op = await suspend(card, vc);
    await finalOperation(op.operationId);
    await d1.quiet();

    const received = await eventually(async () => {
      const got = sink.events('all').filter((w) => (w.event as ServiceEvent).data.virtualCardId === vc);
      return got.some((w) => (w.event as ServiceEvent).type === 'operation.completed') && got.length >= 3 ? got : undefined;
    }, 15_000);
    const changed = received.find((w) => (w.event as ServiceEvent).type === 'token.state_changed')!;
    // Verified here with the Standard Webhooks library itself, from the raw body and headers.
    const verified = new Webhook(all.secret).verify(changed.body, changed.headers) as ServiceEvent;
    expect(verified).toMatchObject({ type: 'token.state_changed', data: { virtualCardId: vc, from: 'ACTIVE', to: 'SUSPENDED', operationId: op.operationId } });
    expect(changed.headers['webhook-id']).toBe(verified.id);
    // The same events the log holds, same ids.
    const logged = await tokenEvents(vc, 2);
    expect(
      received
        .filter((w) => (w.event as ServiceEvent).type.startsWith('token.'))
        .map((w) => w.headers['webhook-id'])
        .sort(),
    ).toEqual(logged.map((e) => e.id).sort());
    expect(sink.events('renewals').filter((w) => (w.event as ServiceEvent).data.virtualCardId === vc)).toEqual([]);
    expect(sink.attempts('all').filter((a) => a.outcome === 'rejected')).toEqual([]);
  });

  it('replays the logged events after a point to one subscription only, with the same ids', async () => {
    const card = uid('card');
    const vc = uid('vc');
    const since = new Date().toISOString();
    await d1.seedCard(card, [vc]);
    await callback(card, vc, 'SUSPEND');
    await d1.quiet();
    const logged = await tokenEvents(vc, 2);
    // A subscriber that was down (it did not exist yet) catches up.
    const late = await subscribe('late', ['token.created', 'token.state_changed']);
    const replayOf = (body: unknown) => postJson(`/v1/event-subscriptions/${late.subscriptionId}/replay`, body);
    const before = sink.events('all').length;
    const replay = await replayOf({ since });
    expect(replay.status).toBe(202);
    const { replayed } = (await replay.json()) as { replayed: number };
    expect(replayed).toBeGreaterThanOrEqual(logged.length);
    await d1.quiet();
    const got = sink.events('late').filter((w) => (w.event as ServiceEvent).data.virtualCardId === vc);
    expect(got.map((w) => w.headers['webhook-id']).sort()).toEqual(logged.map((e) => e.id).sort());
    expect(sink.events('late')).toHaveLength(replayed);
    // Nobody else got them again.
    expect(sink.events('all').length - before).toBe(0);
    // after=<id>: only what follows that event.
    const after = await replayOf({ after: logged[logged.length - 1]!.id });
    expect(after.status).toBe(202);
    const unknown = await replayOf({ after: 'evt_not_in_the_log' });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as ErrorBody).error.fields?.map((f) => f.path)).toEqual(['after']);
  });
});
