import { randomUUID } from 'node:crypto';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { reconciliationDeps } from '../../lambdas/composition/reconciliation';
import { loadEnv } from '../../lambdas/config/env';
import { RECONCILIATION_ENV } from '../../lambdas/handlers/reconcile-sweep.spec';
import type { CardInfoAnswer } from '../../lambdas/ports/d1-issuer';
import { processVirtualCardChange } from '../../lambdas/use-cases/process-virtual-card-change';
import { reconcileCard, type ReconcileDeps } from '../../lambdas/use-cases/reconcile-card';
import type { RequestRecord } from '../../local/d1-simulator';
import type { Operation, Token } from '../support/contract-types';
import { uid } from '../support/ids';
import { issuerRoutes } from '../support/routes';
import { useStackWithSimulator } from '../support/simulator';
import { TEST_ENV } from '../support/stack';

/**
 * Reconciliation with D1 (DESIGN §3 reconcile route, §5 RECONCILE_AFTER_MS) on the real local stack.
 * Our side is taught through the real webhook (→ SQS → apply consumer → DynamoDB Local); D1's side is the
 * simulator's model, seeded through `/_sim/cards` or moved by `updateCardState` with callbacks dropped. Repairs go
 * through `POST /v1/cards/{id}/reconcile` (the real gateway and handler) or the sweep handler module called
 * directly (schedules are off in tests). The race is staged at the use-case level with the real adapters.
 */

const RECONCILE_AFTER_MS = 2_000;
const WEBHOOK = '/issuer/igwapi/v2.0/notifyVirtualCardChange';
const OPERATIONS = '/v1/lcm-operations';
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Reconciled {
  issuerCardRefId: string;
  corrected: { virtualCardId: string; from: string | null; to: string }[];
  settledOperations: string[];
}

const { d1, stack, sim } = useStackWithSimulator({
  d1BaseUrlEnv: 'D1_ISSUER_BASE_URL',
  env: {
    RECONCILE_AFTER_MS: String(RECONCILE_AFTER_MS),
    D1_RETRY_BASE_DELAY_MS: '200',
    D1_MAX_ATTEMPTS: '3',
    D1_TIMEOUT_MS: '500',
  },
});

// ---------------------------------------------------------------------------------------------------------
// helpers

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function ids(label: string) {
  const suffix = uid();
  return { card: `card-${label}-${suffix}`, vc: (n: number | string) => `vc-${label}-${n}-${suffix}` };
}

/** D1's own view of the card: adds or replaces these tokens in the simulator's model (no callback is sent). */
async function d1Has(card: string, tokens: { virtualCardId: string; status: string; walletProviderId?: string }[]): Promise<void> {
  await d1.simCall('POST', '/_sim/cards', { issuerCardRefId: card, tokens });
}

const getCardInfoRequests = (card: string): Promise<RequestRecord[]> => d1.cardRequests('/getCardInfo', card);

const { getJson, getToken, tokenWhen, history, getOperation, operationWhen } = issuerRoutes(() => stack.url);

async function cardTokens(card: string): Promise<Token[]> {
  const { status, body } = await getJson<{ tokens: Token[] }>(`/v1/cards/${encodeURIComponent(card)}/tokens`);
  expect(status).toBe(200);
  return body.tokens;
}

/**
 * Teaches OUR service a change straight through the webhook (as D1 would deliver it), without touching the
 * simulator's model, and waits until the token shows `state`.
 */
async function ours(card: string, vc: string, action: string, state: string): Promise<Token> {
  const res = await fetch(stack.url + WEBHOOK, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-correlation-id': randomUUID(), 'x-issuer-id': TEST_ENV.ISSUER_ID },
    body: JSON.stringify({ issuerCardRefId: card, virtualCardId: vc, walletProviderId: 'APPLE_PAY', action, source: 'WALLET' }),
  });
  expect(res.status).toBe(200);
  return tokenWhen(vc, (t) => t.state === state && t.lastAction === action);
}

/** The card's token known to us (ACTIVE, learnt from a wallet ACTIVATE) and to D1 (RESUMED): in sync. */
async function inSync(card: string, vcs: string[]): Promise<void> {
  await d1Has(
    card,
    vcs.map((virtualCardId) => ({ virtualCardId, status: 'RESUMED' })),
  );
  for (const vc of vcs) await ours(card, vc, 'ACTIVATE', 'ACTIVE');
}

async function reconcile(card: string): Promise<{ status: number; body: Reconciled }> {
  const res = await fetch(`${stack.url}/v1/cards/${encodeURIComponent(card)}/reconcile`, { method: 'POST' });
  return { status: res.status, body: (await res.json()) as Reconciled };
}

async function reconciled(card: string): Promise<Reconciled> {
  const res = await reconcile(card);
  expect(res.status).toBe(200);
  expect(Object.keys(res.body).sort()).toEqual(['corrected', 'issuerCardRefId', 'settledOperations']);
  expect(res.body.issuerCardRefId).toBe(card);
  return res.body;
}

const byId = <T extends { virtualCardId: string }>(items: T[]): T[] => [...items].sort((a, b) => a.virtualCardId.localeCompare(b.virtualCardId));

/** POSTs an LCM operation and waits until D1 accepted it (SUBMITTED). */
async function submitted(body: Record<string, unknown>): Promise<Operation> {
  const res = await fetch(stack.url + OPERATIONS, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(202);
  const op = (await res.json()) as Operation;
  const now = await operationWhen(op.operationId, (o) => o.status !== 'PENDING');
  expect(now.status).toBe('SUBMITTED');
  return now;
}

/** Waits until the operation is older than RECONCILE_AFTER_MS (plus a margin for clock rounding). */
async function untilOverdue(op: Operation): Promise<void> {
  const wait = Date.parse(op.createdAt) + RECONCILE_AFTER_MS + 100 - Date.now();
  if (wait > 0) await sleep(wait);
}

/** Asserts a recorded reconciliation: token fields and its last history event. */
async function expectCorrected(vc: string, card: string, state: string): Promise<void> {
  const token = await getToken(vc);
  expect(token).toMatchObject({
    virtualCardId: vc,
    issuerCardRefId: card,
    state,
    lastAction: 'RECONCILE',
    lastChangeSource: 'RECONCILIATION',
    lastOperationId: null,
  });
  expect(token.updatedAt).toMatch(ISO_INSTANT);
  const events = await history(vc);
  expect(events[events.length - 1]).toEqual({
    at: token.updatedAt,
    action: 'RECONCILE',
    source: 'RECONCILIATION',
    correlationId: expect.any(String),
    operationId: null,
    requestedBy: null,
    errorCode: null,
    outcome: 'APPLIED',
    stateAfter: state,
  });
}

async function expectNoReconcileEvent(vc: string): Promise<void> {
  expect((await history(vc)).filter((e) => e.action === 'RECONCILE' || e.source === 'RECONCILIATION')).toEqual([]);
}

const sweep = async (): Promise<{ cards: number; failures: number }> =>
  (await (await import('../../lambdas/handlers/reconcile-sweep')).handler({})) as { cards: number; failures: number };

/** Every stored item of these tokens (token + history/dedupe) and operations: what "nothing changed" compares. */
async function storedItems(vcs: string[], operationIds: string[]): Promise<unknown[]> {
  const TableName = process.env.TABLE_NAME!;
  const items: unknown[] = [];
  for (const vc of vcs) {
    const page = await stack.ddb.send(
      new QueryCommand({ TableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `TOKEN#${vc}` }, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
  }
  for (const id of operationIds) {
    items.push((await stack.ddb.send(new GetCommand({ TableName, Key: { pk: `OP#${id}`, sk: 'OP' }, ConsistentRead: true }))).Item);
  }
  return items;
}

// ---------------------------------------------------------------------------------------------------------

describe('POST /v1/cards/{issuerCardRefId}/reconcile: drift repaired', () => {
  it('state differs: every D1 status mapped (SUSPENDED, RESUMED, INACTIVE, DEPLOYMENT_ONGOING, DELETED, ERASED)', async () => {
    const { card, vc } = ids('state');
    // Ours: five ACTIVE tokens and one SUSPENDED; D1 reports something else for each.
    await inSync(card, [vc(1), vc(2), vc(3), vc(4), vc(5), vc(6)]);
    await ours(card, vc(2), 'SUSPEND', 'SUSPENDED');
    await d1Has(card, [
      { virtualCardId: vc(1), status: 'SUSPENDED' },
      { virtualCardId: vc(2), status: 'RESUMED' },
      { virtualCardId: vc(3), status: 'INACTIVE' },
      { virtualCardId: vc(4), status: 'DEPLOYMENT_ONGOING' },
      { virtualCardId: vc(5), status: 'DELETED' },
      { virtualCardId: vc(6), status: 'ERASED' },
    ]);

    const result = await reconciled(card);
    expect(byId(result.corrected)).toEqual(
      byId([
        { virtualCardId: vc(1), from: 'ACTIVE', to: 'SUSPENDED' },
        { virtualCardId: vc(2), from: 'SUSPENDED', to: 'ACTIVE' },
        { virtualCardId: vc(3), from: 'ACTIVE', to: 'INACTIVE' },
        { virtualCardId: vc(4), from: 'ACTIVE', to: 'INACTIVE' },
        { virtualCardId: vc(5), from: 'ACTIVE', to: 'DELETED' },
        { virtualCardId: vc(6), from: 'ACTIVE', to: 'DELETED' },
      ]),
    );
    expect(result.settledOperations).toEqual([]);
    const expected: [string, string][] = [
      [vc(1), 'SUSPENDED'],
      [vc(2), 'ACTIVE'],
      [vc(3), 'INACTIVE'],
      [vc(4), 'INACTIVE'],
      [vc(5), 'DELETED'],
      [vc(6), 'DELETED'],
    ];
    for (const [id, state] of expected) await expectCorrected(id, card, state);
    // The correction keeps what it does not decide on.
    expect(await getToken(vc(1))).toMatchObject({ walletProviderId: 'APPLE_PAY', renewals: 0, lastRenewedAt: null });

    // Repaired: a second pass finds nothing to do and writes nothing.
    const before = await storedItems(
      expected.map(([id]) => id),
      [],
    );
    expect(await reconciled(card)).toEqual({ issuerCardRefId: card, corrected: [], settledOperations: [] });
    expect(
      await storedItems(
        expected.map(([id]) => id),
        [],
      ),
    ).toEqual(before);
  });

  it('a token only D1 lists is created (mapped state, D1 walletProviderId, RECONCILE its only history event)', async () => {
    const { card, vc } = ids('only-d1');
    await inSync(card, [vc('known')]);
    await d1Has(card, [
      { virtualCardId: vc('new'), status: 'DEPLOYMENT_ONGOING', walletProviderId: 'GOOGLE_PAY' },
      { virtualCardId: vc('new-s'), status: 'SUSPENDED', walletProviderId: 'SAMSUNG_PAY' },
    ]);
    expect((await getJson(`/v1/tokens/${encodeURIComponent(vc('new'))}`)).status).toBe(404);

    const result = await reconciled(card);
    expect(byId(result.corrected)).toEqual(
      byId([
        { virtualCardId: vc('new'), from: null, to: 'INACTIVE' },
        { virtualCardId: vc('new-s'), from: null, to: 'SUSPENDED' },
      ]),
    );
    expect(await getToken(vc('new'))).toEqual({
      virtualCardId: vc('new'),
      issuerCardRefId: card,
      walletProviderId: 'GOOGLE_PAY',
      tokenStorageId: null,
      walletCardRefId: null,
      device: { manufacturer: 'Google', model: 'Pixel 8', deviceName: 'Simulated phone' },
      state: 'INACTIVE',
      lastAction: 'RECONCILE',
      lastChangeSource: 'RECONCILIATION',
      lastOperationId: null,
      renewals: 0,
      lastRenewedAt: null,
      updatedAt: expect.stringMatching(ISO_INSTANT),
    });
    expect(await history(vc('new'))).toHaveLength(1);
    await expectCorrected(vc('new'), card, 'INACTIVE');
    await expectCorrected(vc('new-s'), card, 'SUSPENDED');
    expect((await getToken(vc('new-s'))).walletProviderId).toBe('SAMSUNG_PAY');
    // The card lists them now; the in-sync token was not touched.
    const listed = new Map((await cardTokens(card)).map((t) => [t.virtualCardId, t.state]));
    expect(listed).toEqual(
      new Map([
        [vc('known'), 'ACTIVE'],
        [vc('new'), 'INACTIVE'],
        [vc('new-s'), 'SUSPENDED'],
      ]),
    );
    await expectNoReconcileEvent(vc('known'));
  });

  it('a token D1 no longer lists becomes DELETED (also when D1 does not know the card at all)', async () => {
    const { card, vc } = ids('gone');
    await inSync(card, [vc('listed')]);
    await ours(card, vc('gone'), 'ACTIVATE', 'ACTIVE'); // only ours: D1 never listed it
    await ours(card, vc('gone-s'), 'ACTIVATE', 'ACTIVE');
    await ours(card, vc('gone-s'), 'SUSPEND', 'SUSPENDED');

    const result = await reconciled(card);
    expect(byId(result.corrected)).toEqual(
      byId([
        { virtualCardId: vc('gone'), from: 'ACTIVE', to: 'DELETED' },
        { virtualCardId: vc('gone-s'), from: 'SUSPENDED', to: 'DELETED' },
      ]),
    );
    await expectCorrected(vc('gone'), card, 'DELETED');
    await expectCorrected(vc('gone-s'), card, 'DELETED');
    await expectNoReconcileEvent(vc('listed'));

    const unknown = ids('unknown-card');
    await ours(unknown.card, unknown.vc(1), 'ACTIVATE', 'ACTIVE'); // the simulator has no such card
    expect((await reconciled(unknown.card)).corrected).toEqual([{ virtualCardId: unknown.vc(1), from: 'ACTIVE', to: 'DELETED' }]);
    await expectCorrected(unknown.vc(1), unknown.card, 'DELETED');
  });

  it('DELETED stays DELETED whatever D1 says, and a card in sync is left alone', async () => {
    const { card, vc } = ids('deleted');
    await inSync(card, [vc('dead'), vc('dead-2'), vc('fine')]);
    await ours(card, vc('dead'), 'DELETE_FROM_APP', 'DELETED');
    await ours(card, vc('dead-2'), 'DELETE', 'DELETED');
    await d1Has(card, [
      { virtualCardId: vc('dead'), status: 'RESUMED' },
      { virtualCardId: vc('dead-2'), status: 'SUSPENDED' },
    ]);
    // The first look only learns the in-sync token's device (no history event, DELETED tokens untouched); from then
    // on a card in sync is left alone: not one attribute, not one version.
    expect(await reconciled(card)).toEqual({ issuerCardRefId: card, corrected: [], settledOperations: [] });
    expect((await getToken(vc('fine'))).device).toEqual({ manufacturer: 'Apple', model: 'iPhone 15', deviceName: 'Simulated phone' });
    expect((await getToken(vc('dead'))).device).toBeNull();
    const before = await storedItems([vc('dead'), vc('dead-2'), vc('fine')], []);

    expect(await reconciled(card)).toEqual({ issuerCardRefId: card, corrected: [], settledOperations: [] });
    expect(await getToken(vc('dead'))).toMatchObject({ state: 'DELETED', lastAction: 'DELETE_FROM_APP', lastChangeSource: 'WALLET' });
    expect(await getToken(vc('dead-2'))).toMatchObject({ state: 'DELETED', lastAction: 'DELETE', lastChangeSource: 'WALLET' });
    expect(await storedItems([vc('dead'), vc('dead-2'), vc('fine')], [])).toEqual(before);
  });

  it('a card neither side knows: 200 with nothing corrected', async () => {
    const { card } = ids('nobody');
    expect(await reconciled(card)).toEqual({ issuerCardRefId: card, corrected: [], settledOperations: [] });
    expect(await cardTokens(card)).toEqual([]);
  });

  it('getCardInfo is called with our issuer id and a correlation id', async () => {
    const { card, vc } = ids('headers');
    await inSync(card, [vc(1)]);
    await reconciled(card);
    const sent = await getCardInfoRequests(card);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body).toEqual({ issuerCardRefId: card });
    expect(sent[0]!.headers['x-issuer-id']).toBe(TEST_ENV.ISSUER_ID);
    expect(sent[0]!.headers['x-correlation-id']).toEqual(expect.any(String));
    expect(sent[0]!.status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('lost callbacks: SUBMITTED operations settled from the D1 view', () => {
  it('TOKEN scope: callback dropped → reconcile settles the operation SUCCEEDED and corrects the token', async () => {
    const { card, vc } = ids('lost-tok');
    await inSync(card, [vc(1)]);
    await d1.simCall('POST', '/_sim/faults', { callbacks: { drop: true } });

    const op = await submitted({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc(1) });
    await d1.quiet(); // the dropped callbacks are not coming late: nothing is in flight on either side
    expect(await getOperation(op.operationId)).toMatchObject({ status: 'SUBMITTED', tokens: [] });
    expect((await getToken(vc(1))).state).toBe('ACTIVE'); // the drift: D1 did it, we never heard

    const result = await reconciled(card);
    expect(result).toEqual({
      issuerCardRefId: card,
      corrected: [{ virtualCardId: vc(1), from: 'ACTIVE', to: 'SUSPENDED' }],
      settledOperations: [op.operationId],
    });
    const done = await getOperation(op.operationId);
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      failure: null,
      tokens: [{ virtualCardId: vc(1), outcome: 'SUCCEEDED', at: expect.stringMatching(ISO_INSTANT) }],
    });
    expect(done.tokens[0]).not.toHaveProperty('errorCode');
    await expectCorrected(vc(1), card, 'SUSPENDED');

    // Settled once: a second reconciliation neither corrects nor settles again.
    expect(await reconciled(card)).toEqual({ issuerCardRefId: card, corrected: [], settledOperations: [] });
  });

  it('TOKEN scope RESUME and DELETE: lost callbacks settle too (DELETE reached when D1 reports DELETED)', async () => {
    const { card, vc } = ids('lost-tok2');
    await inSync(card, [vc('r'), vc('d')]);
    await ours(card, vc('r'), 'SUSPEND', 'SUSPENDED');
    await d1Has(card, [{ virtualCardId: vc('r'), status: 'SUSPENDED' }]);
    await d1.simCall('POST', '/_sim/faults', { callbacks: { drop: true } });

    const resume = await submitted({ action: 'RESUME', issuerCardRefId: card, virtualCardId: vc('r') });
    const del = await submitted({ action: 'DELETE', issuerCardRefId: card, virtualCardId: vc('d') });
    await sim.idle();

    const result = await reconciled(card);
    expect(byId(result.corrected)).toEqual(
      byId([
        { virtualCardId: vc('r'), from: 'SUSPENDED', to: 'ACTIVE' },
        { virtualCardId: vc('d'), from: 'ACTIVE', to: 'DELETED' },
      ]),
    );
    expect([...result.settledOperations].sort()).toEqual([resume.operationId, del.operationId].sort());
    expect(await getOperation(resume.operationId)).toMatchObject({ status: 'SUCCEEDED', tokens: [{ virtualCardId: vc('r'), outcome: 'SUCCEEDED' }] });
    expect(await getOperation(del.operationId)).toMatchObject({ status: 'SUCCEEDED', tokens: [{ virtualCardId: vc('d'), outcome: 'SUCCEEDED' }] });
    await expectCorrected(vc('r'), card, 'ACTIVE');
    await expectCorrected(vc('d'), card, 'DELETED');
  });

  it('CARD scope: callbacks dropped → every expected token SUCCEEDED, the operation SUCCEEDED, tokens corrected', async () => {
    const { card, vc } = ids('lost-card');
    await inSync(card, [vc(1), vc(2), vc('dead')]);
    await ours(card, vc('dead'), 'DELETE_FROM_APP', 'DELETED'); // not expected: DELETED when the operation is created
    await d1Has(card, [{ virtualCardId: vc('dead'), status: 'DELETED' }]);
    await d1.simCall('POST', '/_sim/faults', { callbacks: { drop: true } });

    const op = await submitted({ action: 'SUSPEND', issuerCardRefId: card });
    expect(op.scope).toBe('CARD');
    await d1.quiet(); // the dropped callbacks are not coming late: nothing is in flight on either side
    expect(await getOperation(op.operationId)).toMatchObject({ status: 'SUBMITTED', tokens: [] });

    const result = await reconciled(card);
    expect(byId(result.corrected)).toEqual(
      byId([
        { virtualCardId: vc(1), from: 'ACTIVE', to: 'SUSPENDED' },
        { virtualCardId: vc(2), from: 'ACTIVE', to: 'SUSPENDED' },
      ]),
    );
    expect(result.settledOperations).toEqual([op.operationId]);
    const done = await getOperation(op.operationId);
    expect(done).toMatchObject({ status: 'SUCCEEDED', failure: null });
    expect(byId(done.tokens).map((t) => [t.virtualCardId, t.outcome])).toEqual(
      byId([{ virtualCardId: vc(1) }, { virtualCardId: vc(2) }]).map((t) => [t.virtualCardId, 'SUCCEEDED']),
    );
    await expectCorrected(vc(1), card, 'SUSPENDED');
    await expectCorrected(vc(2), card, 'SUSPENDED');
    expect(await getToken(vc('dead'))).toMatchObject({ state: 'DELETED', lastChangeSource: 'WALLET' });
  });

  it('CARD scope, D1 reached the target on one token only: SUBMITTED with that outcome before RECONCILE_AFTER_MS, PARTIALLY_FAILED after', async () => {
    const { card, vc } = ids('partial');
    await inSync(card, [vc('ok'), vc('stuck')]);
    await d1.simCall('POST', '/_sim/faults', { callbacks: { drop: true } });
    const op = await submitted({ action: 'SUSPEND', issuerCardRefId: card });
    await sim.idle();
    await d1Has(card, [{ virtualCardId: vc('stuck'), status: 'RESUMED' }]); // D1 did not get there for this one

    const early = await reconciled(card);
    expect(Date.now() - Date.parse(op.createdAt)).toBeLessThan(RECONCILE_AFTER_MS); // the precondition of this step
    expect(early.corrected).toEqual([{ virtualCardId: vc('ok'), from: 'ACTIVE', to: 'SUSPENDED' }]);
    expect(early.settledOperations).toEqual([]); // not settled yet: still waiting for the other token
    expect(await getOperation(op.operationId)).toMatchObject({ status: 'SUBMITTED', tokens: [{ virtualCardId: vc('ok'), outcome: 'SUCCEEDED' }] });

    await untilOverdue(op);
    const late = await reconciled(card);
    expect(late).toEqual({ issuerCardRefId: card, corrected: [], settledOperations: [op.operationId] });
    const done = await getOperation(op.operationId);
    expect(done).toMatchObject({ status: 'PARTIALLY_FAILED', failure: null });
    expect(done.tokens.map((t) => [t.virtualCardId, t.outcome])).toEqual([
      [vc('ok'), 'SUCCEEDED'],
      [vc('stuck'), 'FAILED'],
    ]);
    expect(await getToken(vc('stuck'))).toMatchObject({ state: 'ACTIVE', lastChangeSource: 'WALLET' });
  });

  it('TOKEN scope, D1 never reaches the target: stays SUBMITTED before RECONCILE_AFTER_MS, FAILED (CALLBACK_ERROR) after', async () => {
    const { card, vc } = ids('never');
    await inSync(card, [vc(1)]);
    // D1 accepts the request but the change fails there and no callback ever arrives.
    await d1.simCall('POST', '/_sim/faults', { callbacks: { drop: true, errorCode: 221 } });
    const op = await submitted({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc(1) });
    await sim.idle();

    const early = await reconciled(card);
    expect(Date.now() - Date.parse(op.createdAt)).toBeLessThan(RECONCILE_AFTER_MS);
    expect(early).toEqual({ issuerCardRefId: card, corrected: [], settledOperations: [] });
    expect(await getOperation(op.operationId)).toMatchObject({ status: 'SUBMITTED', failure: null, tokens: [] });

    await untilOverdue(op);
    const late = await reconciled(card);
    expect(late).toEqual({ issuerCardRefId: card, corrected: [], settledOperations: [op.operationId] });
    const done = await getOperation(op.operationId);
    expect(done).toMatchObject({ status: 'FAILED', failure: { reason: 'CALLBACK_ERROR' }, tokens: [{ virtualCardId: vc(1), outcome: 'FAILED' }] });
    // The token is what D1 says it is: still ACTIVE, untouched by reconciliation.
    expect(await getToken(vc(1))).toMatchObject({ state: 'ACTIVE', lastAction: 'ACTIVATE', lastChangeSource: 'WALLET' });
    await expectNoReconcileEvent(vc(1));
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('scheduled sweep (reconcile-sweep handler, called directly)', () => {
  it('does nothing when nothing is pending: cards 0, no getCardInfo; a SUBMITTED operation not yet overdue is left alone', async () => {
    const { card, vc } = ids('sweep-idle');
    await inSync(card, [vc(1)]);
    await d1.simCall('DELETE', '/_sim/requests');
    expect(await sweep()).toEqual({ cards: 0, failures: 0 });

    await d1.simCall('POST', '/_sim/faults', { callbacks: { drop: true } });
    const op = await submitted({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc(1) });
    await d1.simCall('DELETE', '/_sim/requests');
    expect(await sweep()).toEqual({ cards: 0, failures: 0 });
    expect(Date.now() - Date.parse(op.createdAt)).toBeLessThan(RECONCILE_AFTER_MS); // the precondition of this step
    const { requests } = await d1.simCall<{ requests: RequestRecord[] }>('GET', '/_sim/requests');
    expect(requests.filter((r) => r.path.endsWith('/getCardInfo'))).toEqual([]);
    expect(await getOperation(op.operationId)).toMatchObject({ status: 'SUBMITTED', tokens: [] });
    expect((await getToken(vc(1))).state).toBe('ACTIVE');

    // Leave nothing pending behind: the route settles it (D1 did reach the target).
    expect((await reconciled(card)).settledOperations).toEqual([op.operationId]);
  });

  it('reconciles operations still SUBMITTED after RECONCILE_AFTER_MS (TOKEN and CARD scope), then has nothing left to do', async () => {
    const a = ids('sweep-tok');
    const b = ids('sweep-card');
    await inSync(a.card, [a.vc(1)]);
    await inSync(b.card, [b.vc(1), b.vc(2)]);
    await d1.simCall('POST', '/_sim/faults', { callbacks: { drop: true } });
    const tokenOp = await submitted({ action: 'SUSPEND', issuerCardRefId: a.card, virtualCardId: a.vc(1) });
    const cardOp = await submitted({ action: 'DELETE', issuerCardRefId: b.card });
    await sim.idle();

    await untilOverdue(cardOp);
    expect(await sweep()).toEqual({ cards: 2, failures: 0 });

    expect(await getOperation(tokenOp.operationId)).toMatchObject({ status: 'SUCCEEDED', tokens: [{ virtualCardId: a.vc(1), outcome: 'SUCCEEDED' }] });
    const done = await getOperation(cardOp.operationId);
    expect(done.status).toBe('SUCCEEDED');
    expect(byId(done.tokens).map((t) => [t.virtualCardId, t.outcome])).toEqual([
      [b.vc(1), 'SUCCEEDED'],
      [b.vc(2), 'SUCCEEDED'],
    ]);
    await expectCorrected(a.vc(1), a.card, 'SUSPENDED');
    await expectCorrected(b.vc(1), b.card, 'DELETED');
    await expectCorrected(b.vc(2), b.card, 'DELETED');

    await d1.simCall('DELETE', '/_sim/requests');
    expect(await sweep()).toEqual({ cards: 0, failures: 0 });
    const { requests } = await d1.simCall<{ requests: RequestRecord[] }>('GET', '/_sim/requests');
    expect(requests).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('a correction never undoes a newer change that raced with it (use case, real adapters)', () => {
  const wallet = (card: string, vc: string, action: string) => ({
    correlationId: randomUUID(),
    issuerCardRefId: card,
    virtualCardId: vc,
    action,
    errorCode: null,
    source: 'WALLET',
    walletProviderId: 'APPLE_PAY',
    receivedAt: new Date().toISOString(),
  });

  /** The apply consumer's use case on the same table: a callback landing for real, not a stub. */
  const applyCallback = (base: ReconcileDeps, change: ReturnType<typeof wallet>) => processVirtualCardChange({ store: base.tokens }, change);

  it('a callback applied while getCardInfo is in flight wins: its token is not corrected to the stale D1 view', async () => {
    const { card, vc } = ids('race');
    await inSync(card, [vc('raced'), vc('other')]);
    await d1Has(card, [{ virtualCardId: vc('other'), status: 'SUSPENDED' }]); // real drift on the other token

    const base = reconciliationDeps(loadEnv(RECONCILIATION_ENV));
    let raced = false;
    const deps: ReconcileDeps = {
      ...base,
      d1: {
        async getCardInfo(request): Promise<CardInfoAnswer> {
          // D1 answers with its view of now: vc-raced RESUMED…
          const answer = await base.d1.getCardInfo(request);
          // …then, before that answer reaches us, the wallet suspends the token at D1 and its callback is applied.
          await d1Has(card, [{ virtualCardId: vc('raced'), status: 'SUSPENDED' }]);
          const applied = await applyCallback(base, wallet(card, vc('raced'), 'SUSPEND'));
          expect(applied).toMatchObject({ duplicate: false, outcome: 'APPLIED' });
          raced = true;
          return answer;
        },
      },
    };

    const result = await reconcileCard(deps, card);
    expect(raced).toBe(true);
    // D1's list predates the callback: correcting vc-raced back to ACTIVE would undo the newer SUSPEND.
    expect(result.corrected).toEqual([{ virtualCardId: vc('other'), from: 'ACTIVE', to: 'SUSPENDED' }]);
    expect(await getToken(vc('raced'))).toMatchObject({ state: 'SUSPENDED', lastAction: 'SUSPEND', lastChangeSource: 'WALLET' });
    await expectNoReconcileEvent(vc('raced'));
    await expectCorrected(vc('other'), card, 'SUSPENDED');

    // The next reconciliation looks again: D1 now lists the SUSPEND too, so both sides agree.
    expect(await reconcileCard(base, card)).toEqual({ issuerCardRefId: card, corrected: [], settledOperations: [] });
    expect(await getToken(vc('raced'))).toMatchObject({ state: 'SUSPENDED', lastChangeSource: 'WALLET' });
  });

  it('a callback applied between the use case reading the token and writing the correction wins too', async () => {
    const { card, vc } = ids('race-write');
    await inSync(card, [vc(1)]);
    await d1Has(card, [{ virtualCardId: vc(1), status: 'SUSPENDED' }]);

    const base = reconciliationDeps(loadEnv(RECONCILIATION_ENV));
    let reads = 0;
    const deps: ReconcileDeps = {
      ...base,
      tokens: {
        getToken: (id) => base.tokens.getToken(id),
        getTokenAndOperation: (id, operationId) => base.tokens.getTokenAndOperation(id, operationId),
        listCardTokens: async (c, page) => {
          const listed = await base.tokens.listCardTokens(c, page);
          if (c === card && reads++ === 0) {
            // The wallet deletes the token right after our read and before our conditional write.
            await applyCallback(base, wallet(card, vc(1), 'DELETE_FROM_APP'));
          }
          return listed;
        },
        history: (id, page) => base.tokens.history(id, page),
        recordChange: (record) => base.tokens.recordChange(record),
        recordDevice: (update) => base.tokens.recordDevice(update),
      },
    };

    const result = await reconcileCard(deps, card);
    expect(reads).toBeGreaterThan(0);
    expect(result.corrected).toEqual([]);
    expect(await getToken(vc(1))).toMatchObject({ state: 'DELETED', lastAction: 'DELETE_FROM_APP', lastChangeSource: 'WALLET' });
    await expectNoReconcileEvent(vc(1));
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('D1 unreachable', () => {
  it('503 UNAVAILABLE and nothing changed (tokens, history and operations identical); repaired once D1 is back', async () => {
    const { card, vc } = ids('down');
    await inSync(card, [vc(1), vc(2)]);
    await d1Has(card, [{ virtualCardId: vc(2), status: 'SUSPENDED' }]); // drift a reconciliation would repair
    await d1.simCall('POST', '/_sim/faults', { callbacks: { drop: true } });
    const op = await submitted({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc(1) }); // lost callback
    await sim.idle();
    await untilOverdue(op); // overdue too: an answer from D1 would settle it either way
    const before = await storedItems([vc(1), vc(2)], [op.operationId]);

    await sim.stop(); // D1 gone: connection refused on its port
    try {
      const res = await fetch(`${stack.url}/v1/cards/${encodeURIComponent(card)}/reconcile`, { method: 'POST' });
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('UNAVAILABLE');
      expect(typeof body.error.message).toBe('string');

      // The sweep meets the same outage: it reports the card as a failure and still writes nothing.
      expect(await sweep()).toEqual({ cards: 1, failures: 1 });
      expect(await storedItems([vc(1), vc(2)], [op.operationId])).toEqual(before);
      expect(await getOperation(op.operationId)).toMatchObject({ status: 'SUBMITTED', tokens: [] });
    } finally {
      await d1.restartSimulator(); // same port; its model starts empty (`sim` now stands for the new one)
    }

    await d1Has(card, [
      { virtualCardId: vc(1), status: 'SUSPENDED' },
      { virtualCardId: vc(2), status: 'SUSPENDED' },
    ]);
    const result = await reconciled(card);
    expect(byId(result.corrected)).toEqual(
      byId([
        { virtualCardId: vc(1), from: 'ACTIVE', to: 'SUSPENDED' },
        { virtualCardId: vc(2), from: 'ACTIVE', to: 'SUSPENDED' },
      ]),
    );
    expect(result.settledOperations).toEqual([op.operationId]);
  });
});
