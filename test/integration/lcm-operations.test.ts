import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { RequestRecord } from '../../local/d1-simulator';
import type { ErrorBody, Operation } from '../support/contract-types';
import { ids } from '../support/ids';
import { expectForwardOnly, issuerRoutes } from '../support/routes';
import { useStackWithSimulator } from '../support/simulator';
import { eventually } from '../support/stack';

/**
 * The LCM API end to end (DESIGN §2 rules 3, 5, 8, 9; §3 LCM API; §4 outbound) on the real local stack:
 * POST /v1/lcm-operations → lcm-operations handler → DynamoDB + d1-requests (fauxqs) → d1-submitter → the D1
 * simulator's updateCardState → its notifyVirtualCardChange callbacks → webhook → apply consumer → the operation
 * and the token, read back through the public routes. Nothing is mocked: faults come from the simulator's
 * control API, and what we sent to D1 is read from its request log.
 */

const OPERATIONS = '/v1/lcm-operations';
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const OPERATION_KEYS = [
  'action',
  'correlationId',
  'createdAt',
  'failure',
  'issuerCardRefId',
  'jobId',
  'operationId',
  'requestedBy',
  'scope',
  'status',
  'submitAttempts',
  'tokens',
  'updatedAt',
  'virtualCardId',
];

const { d1, stack } = useStackWithSimulator({
  d1BaseUrlEnv: 'D1_ISSUER_BASE_URL',
  env: { D1_RETRY_BASE_DELAY_MS: '200', D1_MAX_ATTEMPTS: '3', D1_TIMEOUT_MS: '500' },
});

// ---------------------------------------------------------------------------------------------------------
// helpers

/** Every updateCardState our service sent to the simulator, in arrival order. */
const d1Requests = (filter?: (r: RequestRecord) => boolean): Promise<RequestRecord[]> => d1.simRequests('/updateCardState', filter);
const requestsFor = (correlationId: string) => d1Requests((r) => r.headers['x-correlation-id'] === correlationId);
const requestsForCard = (card: string) => d1.cardRequests('/updateCardState', card);

const { getJson, getToken, tokenWhen, history, getOperation, operationWhen, finalOperation, operationUntil } = issuerRoutes(() => stack.url);

const seedToken = (card: string, vc: string) => d1.seedCard(card, [vc]);

/** A change D1 reports that we did not start (a wallet deletion, say), applied by the time this resolves. */
async function walletChange(card: string, vc: string, action: string, state: string): Promise<void> {
  await d1.simCallback({ issuerCardRefId: card, virtualCardId: vc, action, source: 'WALLET' });
  await tokenWhen(vc, (t) => t.state === state);
}

/** A callback "from D1" for one of our operations, delivered by the test through the simulator. */
async function operationCallback(op: Operation, vc: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await d1.simCallback({
    issuerCardRefId: op.issuerCardRefId,
    virtualCardId: vc,
    action: op.action,
    source: 'ISSUER',
    correlationId: op.correlationId,
    ...extra,
  });
  expect(res.statuses).toEqual([200]);
}

interface Posted<T> {
  status: number;
  location: string | null;
  body: T;
}

async function post<T = Operation>(body: unknown, options: { key?: string; raw?: string } = {}): Promise<Posted<T>> {
  const res = await fetch(stack.url + OPERATIONS, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(options.key !== undefined ? { 'idempotency-key': options.key } : {}) },
    body: options.raw ?? JSON.stringify(body),
  });
  return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as T };
}

async function accepted(body: Record<string, unknown>, key?: string): Promise<Operation> {
  const res = await post(body, key === undefined ? {} : { key });
  expect(res.status).toBe(202);
  return res.body;
}

function expectOperationShape(op: Operation): void {
  expect(Object.keys(op).sort()).toEqual(OPERATION_KEYS);
  expect(op.createdAt).toMatch(ISO_INSTANT);
  expect(op.updatedAt).toMatch(ISO_INSTANT);
  expect(typeof op.correlationId).toBe('string');
  expect(op.correlationId.length).toBeGreaterThan(0);
  expect(op.correlationId.length).toBeLessThanOrEqual(64);
  for (const t of op.tokens) {
    expect(t.at).toMatch(ISO_INSTANT);
    if (t.outcome === 'FAILED') expect(Object.keys(t).sort()).toEqual(['at', 'errorCode', 'outcome', 'virtualCardId']);
    else expect(Object.keys(t).sort()).toEqual(['at', 'outcome', 'virtualCardId']);
  }
}

/** The 202 body: PENDING with no attempt yet, or the result of a first attempt made inline. */
function expectFreshOperation(op: Operation): void {
  expectOperationShape(op);
  if (op.submitAttempts === 0) expect(op.status).toBe('PENDING');
  else expect(op.submitAttempts).toBe(1);
  expect(op.createdAt <= op.updatedAt).toBe(true);
}

/** Operation and idempotency-key items in our table (to prove a rejected request wrote nothing). */
async function storedOperationItems(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await stack.ddb.send(
      new ScanCommand({
        TableName: process.env.TABLE_NAME!,
        FilterExpression: 'begins_with(pk, :op) OR begins_with(pk, :idem)',
        ExpressionAttributeValues: { ':op': 'OP#', ':idem': 'IDEM#' },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

// ---------------------------------------------------------------------------------------------------------

describe('TOKEN scope', () => {
  it('SUSPEND: 202 with location, then SUCCEEDED; token SUSPENDED by ISSUER; one updateCardState with our correlation id', async () => {
    const { card, vc } = ids('tok');
    await d1.seedCard(card, [vc]);

    const res = await post({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc });
    expect(res.status).toBe(202);
    const op = res.body;
    expectFreshOperation(op);
    expect(res.location).toBe(`/v1/lcm-operations/${op.operationId}`);
    expect(op).toMatchObject({ action: 'SUSPEND', scope: 'TOKEN', issuerCardRefId: card, virtualCardId: vc, failure: null, tokens: [] });

    const done = await finalOperation(op.operationId);
    expectOperationShape(done);
    expect(done).toMatchObject({
      operationId: op.operationId,
      correlationId: op.correlationId,
      status: 'SUCCEEDED',
      submitAttempts: 1,
      failure: null,
      createdAt: op.createdAt,
      tokens: [{ virtualCardId: vc, outcome: 'SUCCEEDED', at: expect.stringMatching(ISO_INSTANT) }],
    });
    expect(done.tokens[0]).not.toHaveProperty('errorCode');

    const token = await getToken(vc);
    expect(token).toMatchObject({ state: 'SUSPENDED', lastAction: 'SUSPEND', lastChangeSource: 'ISSUER', lastOperationId: op.operationId });
    const events = await history(vc);
    expect(events).toHaveLength(2);
    expect(events[1]).toEqual({
      at: expect.stringMatching(ISO_INSTANT),
      action: 'SUSPEND',
      source: 'ISSUER',
      correlationId: op.correlationId,
      operationId: op.operationId,
      requestedBy: null,
      errorCode: null,
      outcome: 'APPLIED',
      stateAfter: 'SUSPENDED',
    });

    await d1.quiet();
    const sent = await requestsForCard(card);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers).toEqual({ 'x-correlation-id': op.correlationId, 'x-issuer-id': 'ISSUER0001' });
    expect(sent[0]!.body).toEqual({ issuerCardRefId: card, virtualCardId: vc, action: 'SUSPEND' });
    expect(sent[0]!.status).toBe(200);
  });

  it('a POST for a token we do not know is forwarded (202) and its callback teaches us the token', async () => {
    const { card, vc } = ids('unknown');
    await d1.simCall('POST', '/_sim/cards', { issuerCardRefId: card, tokens: [{ virtualCardId: vc }] }); // D1 knows it, we do not
    expect((await getJson(`/v1/tokens/${encodeURIComponent(vc)}`)).status).toBe(404);

    const op = await accepted({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc });
    const done = await finalOperation(op.operationId);
    expect(done).toMatchObject({ status: 'SUCCEEDED', tokens: [{ virtualCardId: vc, outcome: 'SUCCEEDED' }] });
    expect(await requestsFor(op.correlationId)).toHaveLength(1);
    expect(await tokenWhen(vc, () => true)).toMatchObject({ state: 'SUSPENDED', lastChangeSource: 'ISSUER', lastOperationId: op.operationId });
  });

  it('409 TOKEN_DELETED for a token we know as DELETED, and nothing is sent to D1', async () => {
    const { card, vc } = ids('deleted');
    await d1.seedCard(card, [vc]);
    await walletChange(card, vc, 'DELETE_FROM_APP', 'DELETED');

    const res = await post<ErrorBody>({ action: 'RESUME', issuerCardRefId: card, virtualCardId: vc });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('TOKEN_DELETED');
    expect(res.location).toBeNull();

    await d1.quiet();
    expect(await requestsForCard(card)).toEqual([]);
    expect((await storedOperationItems()).filter((i) => i.issuerCardRefId === card)).toEqual([]);
    expect(await getToken(vc)).toMatchObject({ state: 'DELETED' });
  });
});

describe('CARD scope', () => {
  it('sends no virtualCardId key to D1 and SUCCEEDS once every non-deleted known token reported', async () => {
    const { card } = ids('card');
    const [vc1, vc2, gone] = [`${card}-a`, `${card}-b`, `${card}-gone`];
    await d1.seedCard(card, [vc1, vc2, gone]);
    await walletChange(card, gone, 'DELETE', 'DELETED');

    const res = await post({ action: 'SUSPEND', issuerCardRefId: card, reason: 'card reported lost' });
    expect(res.status).toBe(202);
    const op = res.body;
    expectFreshOperation(op);
    expect(res.location).toBe(`/v1/lcm-operations/${op.operationId}`);
    expect(op).toMatchObject({ scope: 'CARD', virtualCardId: null, issuerCardRefId: card });

    const done = await finalOperation(op.operationId);
    expectOperationShape(done);
    expect(done).toMatchObject({ status: 'SUCCEEDED', failure: null, submitAttempts: 1 });
    expect(done.tokens.map((t) => [t.virtualCardId, t.outcome]).sort()).toEqual([
      [vc1, 'SUCCEEDED'],
      [vc2, 'SUCCEEDED'],
    ]);
    for (const vc of [vc1, vc2]) expect(await getToken(vc)).toMatchObject({ state: 'SUSPENDED', lastOperationId: op.operationId, lastChangeSource: 'ISSUER' });
    expect(await getToken(gone)).toMatchObject({ state: 'DELETED' });

    const sent = await requestsFor(op.correlationId);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toEqual({ issuerCardRefId: card, action: 'SUSPEND', reason: 'card reported lost' });
    expect(Object.keys(sent[0]!.body as object)).not.toContain('virtualCardId');
  });

  it('stays SUBMITTED until every expected token reported, then PARTIALLY_FAILED when one failed (221)', async () => {
    const { card } = ids('partial');
    const [ok, bad] = [`${card}-ok`, `${card}-bad`];
    await d1.seedCard(card, [ok, bad]);
    // D1 accepts but its callbacks are dropped: this test delivers them itself, one at a time.
    await d1.setFaults({ callbacks: { drop: true, times: 1 } });

    const op = await accepted({ action: 'SUSPEND', issuerCardRefId: card });
    const submitted = await operationWhen(op.operationId, (o) => o.status !== 'PENDING');
    expect(submitted.status).toBe('SUBMITTED');

    await operationCallback(op, ok);
    const half = await operationWhen(op.operationId, (o) => o.tokens.length === 1);
    expect(half).toMatchObject({ status: 'SUBMITTED', failure: null, tokens: [{ virtualCardId: ok, outcome: 'SUCCEEDED' }] });

    await operationCallback(op, bad, { errorCode: 221 });
    const done = await finalOperation(op.operationId);
    expectOperationShape(done);
    expect(done.status).toBe('PARTIALLY_FAILED');
    expect(done.tokens).toEqual([
      { virtualCardId: ok, outcome: 'SUCCEEDED', at: expect.stringMatching(ISO_INSTANT) },
      { virtualCardId: bad, outcome: 'FAILED', errorCode: 221, at: expect.stringMatching(ISO_INSTANT) },
    ]);
    expect(await getToken(ok)).toMatchObject({ state: 'SUSPENDED', lastOperationId: op.operationId });
    expect(await getToken(bad)).toMatchObject({ state: 'ACTIVE', lastAction: 'ACTIVATE', lastOperationId: null });
    const badEvents = await history(bad);
    expect(badEvents[badEvents.length - 1]).toMatchObject({
      action: 'SUSPEND',
      outcome: 'FAILED',
      errorCode: 221,
      operationId: op.operationId,
      source: 'ISSUER',
      stateAfter: 'ACTIVE',
    });
  });

  it('every expected token failed → FAILED {CALLBACK_ERROR, errorCode 221}, token states unchanged', async () => {
    const { card } = ids('allfail');
    const vcs = [`${card}-a`, `${card}-b`];
    await d1.seedCard(card, vcs);
    await d1.setFaults({ callbacks: { errorCode: 221, times: 1 } });

    const op = await accepted({ action: 'SUSPEND', issuerCardRefId: card });
    const done = await finalOperation(op.operationId);
    expectOperationShape(done);
    expect(done).toMatchObject({ status: 'FAILED', failure: { reason: 'CALLBACK_ERROR', errorCode: 221 } });
    expect(done.tokens.map((t) => [t.virtualCardId, t.outcome, t.errorCode]).sort()).toEqual(vcs.map((vc) => [vc, 'FAILED', 221]));
    for (const vc of vcs) expect(await getToken(vc)).toMatchObject({ state: 'ACTIVE', lastAction: 'ACTIVATE', lastOperationId: null });
  });

  it('a card whose known tokens are all DELETED is still forwarded (202, never 409) and waits SUBMITTED', async () => {
    const { card, vc } = ids('alldeleted');
    await d1.seedCard(card, [vc]);
    await walletChange(card, vc, 'DELETE', 'DELETED');

    const res = await post({ action: 'SUSPEND', issuerCardRefId: card });
    expect(res.status).toBe(202);
    expect(res.location).toBe(`/v1/lcm-operations/${res.body.operationId}`);
    const submitted = await operationWhen(res.body.operationId, (o) => o.status !== 'PENDING');
    await d1.quiet();
    expect(submitted).toMatchObject({ status: 'SUBMITTED', tokens: [], failure: null, submitAttempts: 1 });
    expect(await getOperation(res.body.operationId)).toMatchObject({ status: 'SUBMITTED' });
    const sent = await requestsFor(res.body.correlationId);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toEqual({ issuerCardRefId: card, action: 'SUSPEND' });
  });
});

describe('idempotency-key', () => {
  it('same key + same body (other key order, whitespace) → 200 with the current operation; no second operation or D1 call', async () => {
    const { card, vc, key } = ids('idem');
    await d1.seedCard(card, [vc]);
    const body = { action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc, reason: 'fraud' };
    const first = await post(body, { key });
    expect(first.status).toBe(202);
    const op = first.body;

    // Replayed at once (whatever its status now), then again once it is done.
    const early = await post(body, { key });
    expect(early.status).toBe(200);
    expect(early.body.operationId).toBe(op.operationId);
    expect(early.location).toBe(`/v1/lcm-operations/${op.operationId}`);

    const done = await finalOperation(op.operationId);
    expect(done.status).toBe('SUCCEEDED');
    const raw = `{\n  "reason" :"fraud",\t"virtualCardId": ${JSON.stringify(vc)},\n"issuerCardRefId":${JSON.stringify(card)} , "action":"SUSPEND"  }\n`;
    const replay = await post(undefined, { key, raw });
    expect(replay.status).toBe(200);
    expect(replay.location).toBe(`/v1/lcm-operations/${op.operationId}`);
    expect(replay.body).toEqual(await getOperation(op.operationId));
    expect(replay.body).toMatchObject({ operationId: op.operationId, correlationId: op.correlationId, status: 'SUCCEEDED' });

    await d1.quiet();
    expect(await requestsForCard(card)).toHaveLength(1);
    expect((await storedOperationItems()).filter((i) => String(i.pk).startsWith('OP#') && i.issuerCardRefId === card)).toHaveLength(1);
  });

  it('same key + different body → 422 IDEMPOTENCY_KEY_REUSED, nothing new sent', async () => {
    const { card, vc, key } = ids('reuse');
    await d1.seedCard(card, [vc]);
    const op = await accepted({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc }, key);
    await finalOperation(op.operationId);

    for (const other of [
      { action: 'RESUME', issuerCardRefId: card, virtualCardId: vc },
      { action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc, reason: 'another reason' },
      { action: 'SUSPEND', issuerCardRefId: card },
    ]) {
      const res = await post<ErrorBody>(other, { key });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    }
    await d1.quiet();
    expect(await requestsForCard(card)).toHaveLength(1);
    expect(await getToken(vc)).toMatchObject({ state: 'SUSPENDED', lastOperationId: op.operationId });
  });

  it('a rejected request (400, 409) does not claim its key: a later valid request with it → 202', async () => {
    const { card, vc, key } = ids('noclaim');
    await d1.seedCard(card, [vc]);

    const bad = await post<ErrorBody>({ action: 'FREEZE', issuerCardRefId: card, virtualCardId: vc }, { key });
    expect(bad.status).toBe(400);
    const good = await post({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc }, { key });
    expect(good.status).toBe(202);
    expect(good.location).toBe(`/v1/lcm-operations/${good.body.operationId}`);

    const gone = `${vc}-gone`;
    const key2 = `${key}-2`;
    await d1.simCall('POST', '/_sim/cards', { issuerCardRefId: card, tokens: [{ virtualCardId: gone }] });
    await walletChange(card, gone, 'ACTIVATE', 'ACTIVE');
    await walletChange(card, gone, 'DELETE', 'DELETED');
    const conflict = await post<ErrorBody>({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: gone }, { key: key2 });
    expect(conflict.status).toBe(409);
    const later = await post({ action: 'RESUME', issuerCardRefId: card, virtualCardId: vc }, { key: key2 });
    expect(later.status).toBe(202);
    expect(later.body.operationId).not.toBe(good.body.operationId);
    await finalOperation(good.body.operationId);
    await finalOperation(later.body.operationId);
  });
});

describe('validation (rule 13)', () => {
  it('400 naming each failing field, headers.idempotency-key for the header, and nothing written or sent', async () => {
    const { card, vc, key } = ids('invalid');
    const valid = { action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc, reason: 'ok' };
    const longCard = 'c'.repeat(49);
    const cases: { name: string; body: Record<string, unknown>; key?: string; paths: string[] }[] = [
      { name: 'missing action', body: { issuerCardRefId: card, virtualCardId: vc }, paths: ['action'] },
      { name: 'bad action enum', body: { ...valid, action: 'suspend' }, paths: ['action'] },
      { name: 'unknown action', body: { ...valid, action: 'FREEZE' }, paths: ['action'] },
      { name: 'issuerCardRefId 49 chars', body: { ...valid, issuerCardRefId: longCard }, paths: ['issuerCardRefId'] },
      { name: 'missing issuerCardRefId', body: { action: 'SUSPEND', virtualCardId: vc }, paths: ['issuerCardRefId'] },
      { name: 'virtualCardId 65 chars', body: { ...valid, virtualCardId: 'v'.repeat(65) }, paths: ['virtualCardId'] },
      { name: 'empty virtualCardId', body: { ...valid, virtualCardId: '' }, paths: ['virtualCardId'] },
      { name: 'reason 257 chars', body: { ...valid, reason: 'r'.repeat(257) }, paths: ['reason'] },
      { name: 'idempotency-key 129 chars', body: valid, key: 'k'.repeat(129), paths: ['headers.idempotency-key'] },
      {
        name: 'everything at once',
        body: { action: 'NOPE', issuerCardRefId: longCard, virtualCardId: 'v'.repeat(65), reason: 'r'.repeat(257) },
        key: 'k'.repeat(129),
        paths: ['action', 'headers.idempotency-key', 'issuerCardRefId', 'reason', 'virtualCardId'],
      },
    ];
    for (const c of cases) {
      const res = await post<ErrorBody>(c.body, c.key === undefined ? {} : { key: c.key });
      expect({ case: c.name, status: res.status, code: res.body.error?.code }).toEqual({ case: c.name, status: 400, code: 'VALIDATION_FAILED' });
      expect({ case: c.name, paths: [...new Set((res.body.error.fields ?? []).map((f) => f.path))].sort() }).toEqual({ case: c.name, paths: c.paths });
      expect(res.location).toBeNull();
    }
    // The rejected requests used a key too: it is not claimed.
    const withKey = await post<ErrorBody>({ ...valid, action: 'FREEZE' }, { key });
    expect(withKey.status).toBe(400);

    await d1.quiet();
    expect(await d1Requests((r) => [card, longCard].includes((r.body as { issuerCardRefId?: string }).issuerCardRefId ?? ''))).toEqual([]);
    const stored = await storedOperationItems();
    expect(
      stored.filter((i) => i.issuerCardRefId === card || i.issuerCardRefId === longCard || i.pk === `IDEM#${key}` || String(i.pk).startsWith('IDEM#kkkk')),
    ).toEqual([]);
  });

  it('accepts the maximum lengths (issuerCardRefId 48, virtualCardId 64, reason 256, idempotency-key 128)', async () => {
    const card = `card-max-${randomUUID()}`.padEnd(48, 'x').slice(0, 48);
    const vc = `vc-max-${randomUUID()}`.padEnd(64, 'y');
    const res = await post({ action: 'DELETE', issuerCardRefId: card, virtualCardId: vc, reason: 'r'.repeat(256) }, { key: randomUUID().padEnd(128, 'z') });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ issuerCardRefId: card, virtualCardId: vc, action: 'DELETE', scope: 'TOKEN' });
    // D1 does not know this token: it rejects with responseCode 119, a final 4xx.
    expect(await finalOperation(res.body.operationId)).toMatchObject({
      status: 'FAILED',
      failure: { reason: 'D1_REJECTED', responseCode: 119 },
      submitAttempts: 1,
    });
    expect((await requestsFor(res.body.correlationId)).map((r) => r.body)).toEqual([
      { issuerCardRefId: card, virtualCardId: vc, action: 'DELETE', reason: 'r'.repeat(256) },
    ]);
  });

  it('GET of an unknown operation → 404 NOT_FOUND (also for an id no operation can have)', async () => {
    for (const id of [randomUUID(), 'x'.repeat(65)]) {
      const { status, body } = await getJson<ErrorBody>(`${OPERATIONS}/${id}`);
      expect(status).toBe(404);
      expect(body.error.code).toBe('NOT_FOUND');
    }
  });
});

describe('ordering and completion (rules 3, 5, 8)', () => {
  it('rule 5: SUSPEND (op1) then RESUME (op2), op1 callback late → token ACTIVE, op1 outcome SUPERSEDED', async () => {
    const { card, vc } = ids('order');
    await d1.seedCard(card, [vc]);
    // Only the first updateCardState (op1's) gets its callback held back.
    await d1.setFaults({ callbacks: { delayMs: 2000, times: 1 } });

    const op1 = await accepted({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc });
    await eventually(async () => ((await requestsFor(op1.correlationId)).some((r) => r.status === 200) ? true : undefined));
    const op2 = await accepted({ action: 'RESUME', issuerCardRefId: card, virtualCardId: vc });
    expect(op2.correlationId).not.toBe(op1.correlationId);

    const done2 = await finalOperation(op2.operationId);
    expect(done2).toMatchObject({ status: 'SUCCEEDED', tokens: [{ virtualCardId: vc, outcome: 'SUCCEEDED' }] });
    const done1 = await operationWhen(op1.operationId, (o) => o.tokens.length > 0);
    expectOperationShape(done1);
    expect(done1.tokens).toEqual([{ virtualCardId: vc, outcome: 'SUPERSEDED', at: expect.stringMatching(ISO_INSTANT) }]);
    expect(done1.status).toBe('SUCCEEDED');

    // Precondition of the scenario: D1 delivered op2's callback before op1's.
    const { deliveries } = await d1.simCall<{ deliveries: { correlationId: string; status: number }[] }>('GET', '/_sim/deliveries');
    const order = deliveries.filter((d) => d.correlationId === op1.correlationId || d.correlationId === op2.correlationId).map((d) => d.correlationId);
    expect(order).toEqual([op2.correlationId, op1.correlationId]);

    expect(await getToken(vc)).toMatchObject({ state: 'ACTIVE', lastAction: 'RESUME', lastChangeSource: 'ISSUER', lastOperationId: op2.operationId });
    const events = await history(vc);
    expect(events.map((e) => [e.action, e.operationId, e.outcome, e.stateAfter])).toEqual([
      ['ACTIVATE', null, 'APPLIED', 'ACTIVE'],
      ['RESUME', op2.operationId, 'APPLIED', 'ACTIVE'],
      ['SUSPEND', op1.operationId, 'SUPERSEDED', 'ACTIVE'],
    ]);
    expect(events[2]).toMatchObject({ source: 'ISSUER', correlationId: op1.correlationId, errorCode: null });
  });

  it('rule 8: callbacks before D1 answers → SUCCEEDED, never back to SUBMITTED, submitAttempts 1', async () => {
    const { card, vc } = ids('early');
    await d1.seedCard(card, [vc]);
    await d1.setFaults({ callbacks: { beforeAnswer: true, times: 1 } });

    const op = await accepted({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc });
    const seen: string[] = [];
    const done = await operationWhen(op.operationId, (o) => o.status === 'SUCCEEDED' && o.submitAttempts === 1, 10_000, seen);
    expect(done).toMatchObject({ status: 'SUCCEEDED', submitAttempts: 1, failure: null, tokens: [{ virtualCardId: vc, outcome: 'SUCCEEDED' }] });
    // Keep watching until nothing is in flight on either side: no late answer or stray retry can land after that.
    await operationUntil(op.operationId, d1.quiet(), seen);
    expectForwardOnly(seen);
    expect(seen[seen.length - 1]).toBe('SUCCEEDED');
    expect(await getOperation(op.operationId)).toMatchObject({ status: 'SUCCEEDED', submitAttempts: 1 });
    expect(await requestsFor(op.correlationId)).toHaveLength(1);
    expect(await getToken(vc)).toMatchObject({ state: 'SUSPENDED', lastOperationId: op.operationId });
  });

  it('rule 8: a callback while the D1 call is still in flight (it then times out) → SUCCEEDED stays, no retry', async () => {
    const { card, vc } = ids('inflight');
    await seedToken(card, vc);
    // D1 holds the first updateCardState open; our client gives up after D1_TIMEOUT_MS (500 ms), a transient answer.
    await d1.setFaults({ updateCardState: { mode: 'timeout', times: 1 } });

    const op = await accepted({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc });
    await eventually(async () => ((await requestsFor(op.correlationId)).length === 1 ? true : undefined), 5_000, 10);
    await operationCallback(op, vc); // D1 did it and says so before answering the HTTP call
    const seen: string[] = [];
    const succeeded = await operationWhen(op.operationId, (o) => o.status === 'SUCCEEDED', 5_000, seen);
    expect(succeeded).toMatchObject({ status: 'SUCCEEDED', failure: null, tokens: [{ virtualCardId: vc, outcome: 'SUCCEEDED' }] });

    // The timed-out attempt is recorded late, and a retry (due ≥ 1 s later) must not be made: watched until
    // nothing is queued, delayed or in flight any more.
    const done = await operationUntil(op.operationId, d1.quiet(), seen);
    expect(seen).toEqual(seen[0] === 'PENDING' ? ['PENDING', 'SUCCEEDED'] : ['SUCCEEDED']);
    expect(done).toMatchObject({ status: 'SUCCEEDED', submitAttempts: 1, failure: null });
    const sent = await requestsFor(op.correlationId);
    expect(sent.map((r) => r.status)).toEqual([null]); // one call, never answered
    expect(await getToken(vc)).toMatchObject({ state: 'SUSPENDED', lastOperationId: op.operationId });
  });

  it('rule 3: a failed callback then a success for the same operation and token → the FAILED outcome wins, the success is IGNORED', async () => {
    const { card, vc } = ids('firstwins');
    await d1.seedCard(card, [vc]);
    await d1.setFaults({ callbacks: { errorCode: 221, times: 1 } });

    const op = await accepted({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc });
    const failed = await finalOperation(op.operationId);
    expect(failed).toMatchObject({
      status: 'FAILED',
      failure: { reason: 'CALLBACK_ERROR', errorCode: 221 },
      tokens: [{ virtualCardId: vc, outcome: 'FAILED', errorCode: 221 }],
    });

    await operationCallback(op, vc); // the same operation and token, now a success
    const events = await eventually(async () => {
      const e = await history(vc);
      return e.length === 3 ? e : undefined;
    });
    expect(events.map((e) => [e.action, e.operationId, e.outcome, e.errorCode, e.stateAfter])).toEqual([
      ['ACTIVATE', null, 'APPLIED', null, 'ACTIVE'],
      ['SUSPEND', op.operationId, 'FAILED', 221, 'ACTIVE'],
      ['SUSPEND', op.operationId, 'IGNORED', null, 'ACTIVE'],
    ]);
    expect(await getOperation(op.operationId)).toEqual(failed);
    expect(await getToken(vc)).toMatchObject({ state: 'ACTIVE', lastAction: 'ACTIVATE', lastOperationId: null });
  });
});
