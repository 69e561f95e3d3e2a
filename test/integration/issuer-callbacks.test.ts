import { randomUUID } from 'node:crypto';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { captureOutput } from '../support/capture';
import { spyOnIssuerCallbacks } from '../support/consumers';
import type { CardPage, ErrorBody, HistoryEvent, HistoryPage, Token } from '../support/contract-types';
import { ids, uid } from '../support/ids';
import { queueDrained } from '../support/queues';
import { issuerRoutes } from '../support/routes';
import { eventually, useTestStack, TEST_ENV } from '../support/stack';

/**
 * The issuer-side webhook end to end on the real local stack (DESIGN §2 rules 1–7, 13–15, §3).
 * HTTP → gateway → notify-virtual-card-change → SQS (fauxqs) → poller → apply-virtual-card-change → DynamoDB
 * Local, read back through the token read routes. The only test hook is a pass-through around the real consumer
 * that remembers the SQS message bodies it was handed.
 */

const WEBHOOK = '/issuer/igwapi/v2.0/notifyVirtualCardChange';
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const TOKEN_KEYS = [
  'device',
  'issuerCardRefId',
  'lastAction',
  'lastChangeSource',
  'lastOperationId',
  'lastRenewedAt',
  'renewals',
  'state',
  'tokenStorageId',
  'updatedAt',
  'virtualCardId',
  'walletCardRefId',
  'walletProviderId',
];
const EVENT_KEYS = ['action', 'at', 'correlationId', 'errorCode', 'operationId', 'outcome', 'requestedBy', 'source', 'stateAfter'];

/** Every SQS message body the real consumer was handed, in order. */
const consumed: string[] = [];

const stack = useTestStack({
  loadConsumer: spyOnIssuerCallbacks(consumed),
});

interface Callback {
  vc: string;
  card: string;
  action: string;
  cid?: string;
  extra?: Record<string, unknown>;
}

function callbackRequest(cb: Callback): { cid: string; init: RequestInit } {
  const cid = cb.cid ?? randomUUID();
  return {
    cid,
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': cid, 'x-issuer-id': TEST_ENV.ISSUER_ID },
      body: JSON.stringify({ issuerCardRefId: cb.card, virtualCardId: cb.vc, action: cb.action, ...cb.extra }),
    },
  };
}

/** Delivers one callback as D1 would and expects it to be acknowledged (200 `{}`). Returns its correlation id. */
async function deliver(cb: Callback): Promise<string> {
  const { cid, init } = callbackRequest(cb);
  const res = await fetch(stack.url + WEBHOOK, init);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({});
  return cid;
}

/** Waits until the issuer-callbacks queue is empty (visible and in flight) and no poller holds a message. */
const drained = (): Promise<void> => queueDrained(stack, stack.resources.queues.issuerCallbacks.url);

/** Delivers a callback and waits until the consumer has taken it and the queue is empty again. */
async function deliverAndSettle(cb: Callback): Promise<string> {
  const cid = await deliver(cb);
  await eventually(async () => (consumed.some((body) => body.includes(cid)) ? true : undefined));
  await drained();
  return cid;
}

const { getJson, getToken: token, tokenWhen, historyPage } = issuerRoutes(() => stack.url);

const tokenPath = (vc: string) => `/v1/tokens/${encodeURIComponent(vc)}`;
const historyPath = (vc: string, query = '') => `/v1/tokens/${encodeURIComponent(vc)}/history${query}`;
const cardPath = (card: string, query = '') => `/v1/cards/${encodeURIComponent(card)}/tokens${query}`;

/** The whole history, which must fit in one page. */
async function history(vc: string): Promise<HistoryEvent[]> {
  const body = await historyPage(vc);
  expect(body.virtualCardId).toBe(vc);
  expect(body.nextToken).toBeNull();
  return body.events;
}

function expectTokenShape(t: Token): void {
  expect(Object.keys(t).sort()).toEqual(TOKEN_KEYS);
  expect(t.updatedAt).toMatch(ISO_INSTANT);
  expect(new Date(t.updatedAt).toISOString()).toBe(t.updatedAt);
}

function expectEventShape(e: HistoryEvent): void {
  expect(Object.keys(e).sort()).toEqual(EVENT_KEYS);
  expect(e.at).toMatch(ISO_INSTANT);
}

async function expectNotFound(path: string): Promise<void> {
  const { status, body } = await getJson<ErrorBody>(path);
  expect(status).toBe(404);
  expect(body.error.code).toBe('NOT_FOUND');
}

describe('ACTIVATE and learning tokens (rules 6, 7)', () => {
  it('ACTIVATE for an unknown token creates it ACTIVE with source, wallet provider and an ISO updatedAt', async () => {
    const { card, vc } = ids('act');
    const cid = await deliver({ card, vc, action: 'ACTIVATE', extra: { source: 'WALLET', walletProviderId: 'APPLE_PAY' } });
    const t = await tokenWhen(vc, () => true);
    expectTokenShape(t);
    expect(t).toEqual({
      virtualCardId: vc,
      issuerCardRefId: card,
      walletProviderId: 'APPLE_PAY',
      tokenStorageId: null,
      walletCardRefId: null,
      device: null,
      state: 'ACTIVE',
      lastAction: 'ACTIVATE',
      lastChangeSource: 'WALLET',
      lastOperationId: null,
      renewals: 0,
      lastRenewedAt: null,
      updatedAt: expect.any(String),
    });
    const events = await history(vc);
    expect(events).toEqual([
      {
        at: t.updatedAt,
        action: 'ACTIVATE',
        source: 'WALLET',
        correlationId: cid,
        operationId: null,
        requestedBy: null,
        errorCode: null,
        outcome: 'APPLIED',
        stateAfter: 'ACTIVE',
      },
    ]);
  });

  it('a failed callback (errorCode 221) for an unknown token creates nothing', async () => {
    const { card, vc } = ids('fail-unknown');
    await deliverAndSettle({ card, vc, action: 'ACTIVATE', extra: { errorCode: 221, source: 'WALLET' } });
    await expectNotFound(tokenPath(vc));
    await expectNotFound(historyPath(vc));
    const listing = await getJson<CardPage>(cardPath(card));
    expect(listing).toEqual({ status: 200, body: { issuerCardRefId: card, tokens: [], nextToken: null } });
  });

  it('an unknown action for an unknown token creates nothing', async () => {
    const { card, vc } = ids('unk-unknown');
    await deliverAndSettle({ card, vc, action: 'TELEPORT', extra: { source: 'TSP' } });
    await expectNotFound(tokenPath(vc));
    await expectNotFound(historyPath(vc));
    expect((await getJson<CardPage>(cardPath(card))).body.tokens).toEqual([]);
  });
});

describe('external wallet / TSP changes (rules 4, 6)', () => {
  it('wallet SUSPEND then RESUME moves the state; lastAction and lastChangeSource follow', async () => {
    const { card, vc } = ids('susp-res');
    const suspendCid = await deliver({ card, vc, action: 'SUSPEND', extra: { source: 'WALLET', walletProviderId: 'GOOGLE_PAY' } });
    const suspended = await tokenWhen(vc, (t) => t.state === 'SUSPENDED');
    expect(suspended).toMatchObject({ state: 'SUSPENDED', lastAction: 'SUSPEND', lastChangeSource: 'WALLET', lastOperationId: null });

    const resumeCid = await deliver({ card, vc, action: 'RESUME', extra: { source: 'WALLET' } });
    const resumed = await tokenWhen(vc, (t) => t.state === 'ACTIVE');
    expectTokenShape(resumed);
    expect(resumed).toMatchObject({ state: 'ACTIVE', lastAction: 'RESUME', lastChangeSource: 'WALLET', lastOperationId: null });
    expect(resumed.updatedAt >= suspended.updatedAt).toBe(true);

    const events = await history(vc);
    expect(events.map((e) => [e.action, e.correlationId, e.outcome, e.stateAfter, e.source])).toEqual([
      ['SUSPEND', suspendCid, 'APPLIED', 'SUSPENDED', 'WALLET'],
      ['RESUME', resumeCid, 'APPLIED', 'ACTIVE', 'WALLET'],
    ]);
  });

  it.each(['DELETE', 'DELETE_FROM_APP'])('TSP %s is terminal: a later RESUME leaves it DELETED and is recorded IGNORED', async (deleteAction) => {
    const { card, vc } = ids(deleteAction.toLowerCase());
    await deliverAndSettle({ card, vc, action: 'ACTIVATE', extra: { source: 'TSP' } });
    const deleteCid = await deliverAndSettle({ card, vc, action: deleteAction, extra: { source: 'TSP' } });
    const deleted = await token(vc);
    expect(deleted).toMatchObject({ state: 'DELETED', lastAction: deleteAction, lastChangeSource: 'TSP' });

    const resumeCid = await deliverAndSettle({ card, vc, action: 'RESUME', extra: { source: 'WALLET' } });
    // Nothing moved: not the state, not lastAction/lastChangeSource, not updatedAt.
    expect(await token(vc)).toEqual(deleted);

    const events = await history(vc);
    events.forEach(expectEventShape);
    expect(events.slice(1)).toEqual([
      {
        at: expect.any(String),
        action: deleteAction,
        source: 'TSP',
        correlationId: deleteCid,
        operationId: null,
        requestedBy: null,
        errorCode: null,
        outcome: 'APPLIED',
        stateAfter: 'DELETED',
      },
      {
        at: expect.any(String),
        action: 'RESUME',
        source: 'WALLET',
        correlationId: resumeCid,
        operationId: null,
        requestedBy: null,
        errorCode: null,
        outcome: 'IGNORED',
        stateAfter: 'DELETED',
      },
    ]);
  });
});

describe('RENEW (rule 7) and duplicates (rule 2)', () => {
  it('counts a renewal once when the same RENEW is delivered twice concurrently, and keeps the state', async () => {
    const { card, vc } = ids('renew-conc');
    await deliverAndSettle({ card, vc, action: 'SUSPEND', extra: { source: 'WALLET' } });
    const before = await token(vc);
    expect(before).toMatchObject({ state: 'SUSPENDED', renewals: 0, lastRenewedAt: null });

    const { cid, init } = callbackRequest({ card, vc, action: 'RENEW', extra: { source: 'TSP' } });
    const answers = await Promise.all([fetch(stack.url + WEBHOOK, init), fetch(stack.url + WEBHOOK, init)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200]);
    expect(await Promise.all(answers.map((r) => r.json()))).toEqual([{}, {}]);

    await eventually(async () => (consumed.filter((body) => body.includes(cid)).length >= 2 ? true : undefined));
    await drained();
    const after = await token(vc);
    expectTokenShape(after);
    expect(after).toMatchObject({ state: 'SUSPENDED', renewals: 1, lastAction: 'RENEW', lastChangeSource: 'TSP' });
    expect(after.lastRenewedAt).toMatch(ISO_INSTANT);
    expect(after.lastRenewedAt! >= before.updatedAt).toBe(true);

    const renewEvents = (await history(vc)).filter((e) => e.action === 'RENEW');
    expect(renewEvents).toEqual([
      {
        at: after.lastRenewedAt,
        action: 'RENEW',
        source: 'TSP',
        correlationId: cid,
        operationId: null,
        requestedBy: null,
        errorCode: null,
        outcome: 'APPLIED',
        stateAfter: 'SUSPENDED',
      },
    ]);
  });

  it('a token first seen through RENEW is created ACTIVE with one renewal', async () => {
    const { card, vc } = ids('renew-first');
    await deliver({ card, vc, action: 'RENEW', extra: { source: 'TSP' } });
    const t = await tokenWhen(vc, () => true);
    expect(t).toMatchObject({ state: 'ACTIVE', renewals: 1, lastAction: 'RENEW', lastChangeSource: 'TSP' });
    expect(t.lastRenewedAt).toMatch(ISO_INSTANT);
  });

  it('a RENEW with errorCode records a failed renewal and changes nothing', async () => {
    const { card, vc } = ids('renew-fail');
    await deliverAndSettle({ card, vc, action: 'ACTIVATE', extra: { source: 'WALLET' } });
    await deliverAndSettle({ card, vc, action: 'RENEW', extra: { source: 'TSP' } });
    const before = await token(vc);
    expect(before.renewals).toBe(1);

    const failedCid = await deliverAndSettle({ card, vc, action: 'RENEW', extra: { source: 'TSP', errorCode: 301 } });
    expect(await token(vc)).toEqual(before);
    const last = (await history(vc)).at(-1);
    expect(last).toEqual({
      at: expect.any(String),
      action: 'RENEW',
      source: 'TSP',
      correlationId: failedCid,
      operationId: null,
      requestedBy: null,
      errorCode: 301,
      outcome: 'FAILED',
      stateAfter: 'ACTIVE',
    });
  });

  it('the same callback delivered 3 times sequentially adds one history event and leaves the token identical', async () => {
    const { card, vc } = ids('dup');
    await deliverAndSettle({ card, vc, action: 'ACTIVATE', extra: { source: 'WALLET' } });
    const cid = randomUUID();
    const suspend: Callback = { card, vc, action: 'SUSPEND', cid, extra: { source: 'WALLET' } };
    await deliverAndSettle(suspend);
    const afterFirst = await token(vc);
    expect(afterFirst.state).toBe('SUSPENDED');
    const historyAfterFirst = await history(vc);

    await deliver(suspend);
    await deliver(suspend);
    await eventually(async () => (consumed.filter((body) => body.includes(cid)).length >= 3 ? true : undefined));
    await drained();

    expect(await token(vc)).toEqual(afterFirst);
    const events = await history(vc);
    expect(events).toEqual(historyAfterFirst);
    expect(events.filter((e) => e.correlationId === cid)).toHaveLength(1);
  });

  it('a duplicated failed callback is recorded once; a different errorCode with the same correlation id is another callback', async () => {
    const { card, vc } = ids('dup-fail');
    await deliverAndSettle({ card, vc, action: 'ACTIVATE', extra: { source: 'WALLET' } });
    const before = await token(vc);
    const cid = randomUUID();
    for (let i = 0; i < 3; i++) await deliverAndSettle({ card, vc, action: 'SUSPEND', cid, extra: { errorCode: 221 } });
    await deliverAndSettle({ card, vc, action: 'SUSPEND', cid, extra: { errorCode: 222 } });

    expect(await token(vc)).toEqual(before);
    const sameCid = (await history(vc)).filter((e) => e.correlationId === cid);
    expect(sameCid.map((e) => [e.action, e.errorCode, e.outcome, e.stateAfter])).toEqual([
      ['SUSPEND', 221, 'FAILED', 'ACTIVE'],
      ['SUSPEND', 222, 'FAILED', 'ACTIVE'],
    ]);
  });
});

describe('unknown actions and failed callbacks (rules 3, 7)', () => {
  it('an unknown action is acknowledged, changes nothing (updatedAt included) and is recorded IGNORED', async () => {
    const { card, vc } = ids('unk');
    await deliverAndSettle({ card, vc, action: 'ACTIVATE', extra: { source: 'WALLET', walletProviderId: 'APPLE_PAY' } });
    const before = await token(vc);
    const cid = await deliverAndSettle({ card, vc, action: 'SOMETHING_NEW', extra: { source: 'TSP', walletProviderId: 'OTHER_PAY' } });
    expect(await token(vc)).toEqual(before);
    expect((await history(vc)).at(-1)).toEqual({
      at: expect.any(String),
      action: 'SOMETHING_NEW',
      source: 'TSP',
      correlationId: cid,
      operationId: null,
      requestedBy: null,
      errorCode: null,
      outcome: 'IGNORED',
      stateAfter: 'ACTIVE',
    });
  });

  it('actions are case-sensitive: "suspend" is an unknown action', async () => {
    const { card, vc } = ids('case');
    await deliverAndSettle({ card, vc, action: 'ACTIVATE' });
    const before = await token(vc);
    await deliverAndSettle({ card, vc, action: 'suspend' });
    expect(await token(vc)).toEqual(before);
    expect((await history(vc)).at(-1)).toMatchObject({ action: 'suspend', outcome: 'IGNORED', stateAfter: 'ACTIVE' });
  });

  it('a failed SUSPEND (errorCode 221) never changes the state and is recorded FAILED with its code', async () => {
    const { card, vc } = ids('fail');
    await deliverAndSettle({ card, vc, action: 'ACTIVATE', extra: { source: 'WALLET' } });
    const before = await token(vc);
    const cid = await deliverAndSettle({ card, vc, action: 'SUSPEND', extra: { source: 'WALLET', errorCode: 221 } });
    expect(await token(vc)).toEqual(before);
    expect((await history(vc)).at(-1)).toEqual({
      at: expect.any(String),
      action: 'SUSPEND',
      source: 'WALLET',
      correlationId: cid,
      operationId: null,
      requestedBy: null,
      errorCode: 221,
      outcome: 'FAILED',
      stateAfter: 'ACTIVE',
    });
  });

  it('errorCode: null is treated as absent: the change applies', async () => {
    const { card, vc } = ids('null-code');
    await deliverAndSettle({ card, vc, action: 'ACTIVATE', extra: { source: 'WALLET' } });
    const cid = await deliver({ card, vc, action: 'SUSPEND', extra: { source: 'WALLET', errorCode: null } });
    const t = await tokenWhen(vc, (x) => x.state === 'SUSPENDED');
    expect(t).toMatchObject({ lastAction: 'SUSPEND', lastChangeSource: 'WALLET' });
    expect((await history(vc)).at(-1)).toMatchObject({ correlationId: cid, errorCode: null, outcome: 'APPLIED', stateAfter: 'SUSPENDED' });
  });
});

describe('history route', () => {
  it('lists APPLIED, FAILED and IGNORED events oldest first and pages through them with nextToken', async () => {
    const { card, vc } = ids('hist');
    const sent: { action: string; cid: string; errorCode: number | null; outcome: string; stateAfter: string; source: string }[] = [];
    const steps: { action: string; errorCode?: number; source?: string; outcome: string; stateAfter: string; expectedSource: string }[] = [
      { action: 'ACTIVATE', source: 'WALLET', outcome: 'APPLIED', stateAfter: 'ACTIVE', expectedSource: 'WALLET' },
      { action: 'SUSPEND', source: 'TSP', outcome: 'APPLIED', stateAfter: 'SUSPENDED', expectedSource: 'TSP' },
      { action: 'RESUME', errorCode: 221, source: 'WALLET', outcome: 'FAILED', stateAfter: 'SUSPENDED', expectedSource: 'WALLET' },
      { action: 'RESUME', source: 'ISSUER', outcome: 'APPLIED', stateAfter: 'ACTIVE', expectedSource: 'ISSUER' },
      { action: 'NEW_THING', outcome: 'IGNORED', stateAfter: 'ACTIVE', expectedSource: 'UNKNOWN' },
      { action: 'RENEW', source: 'TSP', outcome: 'APPLIED', stateAfter: 'ACTIVE', expectedSource: 'TSP' },
    ];
    for (const step of steps) {
      const extra: Record<string, unknown> = {};
      if (step.errorCode !== undefined) extra.errorCode = step.errorCode;
      if (step.source !== undefined) extra.source = step.source;
      const cid = await deliverAndSettle({ card, vc, action: step.action, extra });
      sent.push({
        action: step.action,
        cid,
        errorCode: step.errorCode ?? null,
        outcome: step.outcome,
        stateAfter: step.stateAfter,
        source: step.expectedSource,
      });
    }

    const all = await history(vc);
    all.forEach(expectEventShape);
    expect(
      all.map((e) => ({ action: e.action, cid: e.correlationId, errorCode: e.errorCode, outcome: e.outcome, stateAfter: e.stateAfter, source: e.source })),
    ).toEqual(sent);
    expect(all.every((e) => e.operationId === null)).toBe(true);
    const times = all.map((e) => e.at);
    expect([...times].sort()).toEqual(times);

    for (const limit of [2, 4, 5]) {
      const pages: HistoryPage[] = [];
      let next: string | null = null;
      do {
        const query: string = `?limit=${limit}${next ? `&nextToken=${encodeURIComponent(next)}` : ''}`;
        const { status, body } = await getJson<HistoryPage>(historyPath(vc, query));
        expect(status).toBe(200);
        expect(body.events.length).toBeLessThanOrEqual(limit);
        pages.push(body);
        next = body.nextToken;
        expect(pages.length).toBeLessThanOrEqual(all.length);
      } while (next !== null);
      expect(pages.map((p) => p.events.length)).toEqual(limit === 2 ? [2, 2, 2] : limit === 4 ? [4, 2] : [5, 1]);
      expect(pages.flatMap((p) => p.events)).toEqual(all);
      expect(pages.at(-1)!.nextToken).toBeNull();
      expect(pages.slice(0, -1).every((p) => typeof p.nextToken === 'string')).toBe(true);
    }
  });

  it('rejects bad paging parameters with a 400 naming the query field, and answers 404 for an unknown token', async () => {
    const { card, vc } = ids('hist-bad');
    await deliverAndSettle({ card, vc, action: 'ACTIVATE' });
    await deliverAndSettle({ card, vc, action: 'SUSPEND' });
    await deliverAndSettle({ card, vc, action: 'RESUME' });
    const other = ids('hist-other');
    await deliverAndSettle({ card: other.card, vc: other.vc, action: 'ACTIVATE' });
    await deliverAndSettle({ card: other.card, vc: other.vc, action: 'SUSPEND' });
    const otherPage = await getJson<HistoryPage>(historyPath(other.vc, '?limit=1'));
    expect(otherPage.body.nextToken).toEqual(expect.any(String));

    const badTokens = ['not-a-token', Buffer.from('{"pk":"TOKEN#x"}').toString('base64url'), otherPage.body.nextToken!];
    for (const bad of badTokens) {
      const { status, body } = await getJson<ErrorBody>(historyPath(vc, `?limit=1&nextToken=${encodeURIComponent(bad)}`));
      expect(status).toBe(400);
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.fields?.map((f) => f.path)).toEqual(['query.nextToken']);
    }
    for (const limit of ['0', '101', 'abc', '2.5']) {
      const { status, body } = await getJson<ErrorBody>(historyPath(vc, `?limit=${limit}`));
      expect(status).toBe(400);
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.fields?.map((f) => f.path)).toEqual(['query.limit']);
    }
    expect((await getJson<HistoryPage>(historyPath(vc, '?limit=1'))).body.events).toHaveLength(1);
    expect((await getJson<HistoryPage>(historyPath(vc, '?limit=100'))).body.events).toHaveLength(3);

    await expectNotFound(historyPath(`vc-never-${uid()}`));
    await expectNotFound(tokenPath(`vc-never-${uid()}`));
  });
});

describe('card listing', () => {
  it('lists every token of the card, DELETED included, pages through them, and is empty for an unknown card', async () => {
    const card = `card-list-${uid()}`;
    const vcs = [0, 1, 2].map((i) => `vc-list-${i}-${uid()}`);
    await deliverAndSettle({ card, vc: vcs[0]!, action: 'ACTIVATE' });
    await deliverAndSettle({ card, vc: vcs[1]!, action: 'ACTIVATE' });
    await deliverAndSettle({ card, vc: vcs[1]!, action: 'DELETE' });
    await deliverAndSettle({ card, vc: vcs[2]!, action: 'SUSPEND' });

    const full = await getJson<CardPage>(cardPath(card));
    expect(full.status).toBe(200);
    expect(full.body.issuerCardRefId).toBe(card);
    expect(full.body.nextToken).toBeNull();
    full.body.tokens.forEach(expectTokenShape);
    const states = Object.fromEntries(full.body.tokens.map((t) => [t.virtualCardId, t.state]));
    expect(states).toEqual({ [vcs[0]!]: 'ACTIVE', [vcs[1]!]: 'DELETED', [vcs[2]!]: 'SUSPENDED' });
    for (const t of full.body.tokens) expect(t).toEqual(await token(t.virtualCardId));

    const first = await getJson<CardPage>(cardPath(card, '?limit=2'));
    expect(first.status).toBe(200);
    expect(first.body.tokens).toHaveLength(2);
    expect(first.body.nextToken).toEqual(expect.any(String));
    const second = await getJson<CardPage>(cardPath(card, `?limit=2&nextToken=${encodeURIComponent(first.body.nextToken!)}`));
    expect(second.status).toBe(200);
    expect(second.body.tokens).toHaveLength(1);
    expect(second.body.nextToken).toBeNull();
    expect([...first.body.tokens, ...second.body.tokens]).toEqual(full.body.tokens);

    const exact = await getJson<CardPage>(cardPath(card, '?limit=3'));
    expect(exact.body.tokens).toHaveLength(3);
    expect(exact.body.nextToken).toBeNull();

    const bad = await getJson<ErrorBody>(cardPath(card, '?nextToken=garbage'));
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields?.map((f) => f.path)).toEqual(['query.nextToken']);
    const badLimit = await getJson<ErrorBody>(cardPath(card, '?limit=0'));
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.fields?.map((f) => f.path)).toEqual(['query.limit']);

    const unknown = `card-none-${uid()}`;
    expect(await getJson<CardPage>(cardPath(unknown))).toEqual({ status: 200, body: { issuerCardRefId: unknown, tokens: [], nextToken: null } });
  });
});

describe('source values', () => {
  it.each([
    ['WALLET', 'WALLET'],
    ['TSP', 'TSP'],
    ['ISSUER', 'ISSUER'],
    ['SOMETHING', 'UNKNOWN'],
    ['wallet', 'UNKNOWN'],
    [null, 'UNKNOWN'],
    [undefined, 'UNKNOWN'],
  ])('source %p is kept as %s', async (source, expected) => {
    const { card, vc } = ids('src');
    const cid = await deliver({ card, vc, action: 'ACTIVATE', extra: source === undefined ? {} : { source } });
    const t = await tokenWhen(vc, () => true);
    expect(t.lastChangeSource).toBe(expected);
    expect(await history(vc)).toEqual([expect.objectContaining({ correlationId: cid, source: expected, outcome: 'APPLIED' })]);
  });
});

describe('source values (contract: any string)', () => {
  it('a source longer than 64 characters is still accepted and kept as UNKNOWN (DESIGN §3: "source (any string)")', async () => {
    const { card, vc } = ids('src-long');
    const cid = await deliver({ card, vc, action: 'ACTIVATE', extra: { source: 'S'.repeat(100) } });
    const t = await tokenWhen(vc, () => true);
    expect(t.lastChangeSource).toBe('UNKNOWN');
    expect(await history(vc)).toEqual([expect.objectContaining({ correlationId: cid, source: 'UNKNOWN' })]);
  });
});

describe('distinct callbacks racing on one token (rule 1: lose nothing)', () => {
  it('five different RENEWs delivered concurrently are all counted and all recorded', async () => {
    const { card, vc } = ids('renew-race');
    await deliverAndSettle({ card, vc, action: 'ACTIVATE', extra: { source: 'WALLET' } });
    const cids = await Promise.all(Array.from({ length: 5 }, () => deliver({ card, vc, action: 'RENEW', extra: { source: 'TSP' } })));
    await eventually(async () => (cids.every((cid) => consumed.some((body) => body.includes(cid))) ? true : undefined));
    await drained();
    expect(await token(vc)).toMatchObject({ state: 'ACTIVE', renewals: 5, lastAction: 'RENEW' });
    const events = await history(vc);
    expect(
      events
        .map((e) => e.correlationId)
        .slice(1)
        .sort(),
    ).toEqual([...cids].sort());
    expect(events.slice(1).every((e) => e.action === 'RENEW' && e.outcome === 'APPLIED')).toBe(true);
  });
});

describe('card data never leaves the webhook (rule 14)', () => {
  const PAN = '4111111111111111';

  it('logs, the queued message and the stored items never contain tokenInfo', async () => {
    const { card, vc } = ids('pan');
    let cids: string[] = [];
    const output = await captureOutput(async () => {
      cids = [
        await deliverAndSettle({ card, vc, action: 'ACTIVATE', extra: { source: 'WALLET', tokenInfo: { dpan: PAN, exp: '1228' } } }),
        await deliverAndSettle({ card, vc, action: 'RENEW', extra: { source: 'TSP', tokenInfo: `opaque-${PAN}-blob` } }),
      ];
    });

    expect(output).toContain('callback recorded');
    expect(output).toContain(vc);
    expect(output).not.toContain(PAN);
    expect(output).not.toContain('dpan');
    expect(output).not.toContain('tokenInfo');

    const messages = consumed.filter((body) => cids.some((cid) => body.includes(cid)));
    expect(messages).toHaveLength(2);
    for (const body of messages) {
      expect(body).not.toContain(PAN);
      expect(body).not.toContain('tokenInfo');
      expect(body).not.toContain('dpan');
    }

    const own = await stack.ddb.send(
      new QueryCommand({ TableName: process.env.TABLE_NAME!, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `TOKEN#${vc}` } }),
    );
    expect(own.Items?.length).toBeGreaterThanOrEqual(3); // the token and its two events
    expect(JSON.stringify(own.Items)).not.toContain(PAN);
    expect(JSON.stringify(own.Items)).not.toContain('tokenInfo');
    const everything = await stack.ddb.send(new ScanCommand({ TableName: process.env.TABLE_NAME! }));
    expect(JSON.stringify(everything.Items)).not.toContain(PAN);
    expect(await token(vc)).toMatchObject({ state: 'ACTIVE', renewals: 1 });
  });
});
