import type { RequestRecord } from '../../local/d1-simulator';
import type { Operation } from '../support/contract-types';
import { ids } from '../support/ids';
import { expectForwardOnly, issuerRoutes } from '../support/routes';
import { useStackWithSimulator } from '../support/simulator';
import { eventually } from '../support/stack';

/**
 * DESIGN §4 retry policy and rule 9 end to end: the real d1-submitter against the D1 simulator's injected faults,
 * each retry a delayed SQS message on fauxqs. Configured with D1_RETRY_BASE_DELAY_MS 200 (so every retry waits
 * the 1 s DelaySeconds floor), D1_MAX_ATTEMPTS 3 and D1_TIMEOUT_MS 500.
 */

const OPERATIONS = '/v1/lcm-operations';
const MAX_ATTEMPTS = 3;

/** Every operation this file created, for the file-wide correlation-id check at the end. */
const created: Operation[] = [];

const { d1, stack, sim } = useStackWithSimulator({
  d1BaseUrlEnv: 'D1_ISSUER_BASE_URL',
  env: { D1_RETRY_BASE_DELAY_MS: '200', D1_MAX_ATTEMPTS: String(MAX_ATTEMPTS), D1_TIMEOUT_MS: '500' },
});

// ---------------------------------------------------------------------------------------------------------
// helpers

/** Every updateCardState our service sent to the simulator, in arrival order. */
const d1Requests = (filter?: (r: RequestRecord) => boolean): Promise<RequestRecord[]> => d1.simRequests('/updateCardState', filter);
const requestsForCard = (card: string) => d1.cardRequests('/updateCardState', card);

const operations = issuerRoutes(() => stack.url);
const { getToken, getOperation } = operations;

const seedToken = (card: string, vc: string) => d1.seedCard(card, [vc]);

async function requestOperation(body: Record<string, unknown>): Promise<Operation> {
  const res = await fetch(stack.url + OPERATIONS, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(202);
  const op = (await res.json()) as Operation;
  created.push(op);
  return op;
}

/** Polls until the operation is final (or the deadline passes: 15 s, retries wait ≥ 1 s each); records every status seen, in order. */
const finalOperation = (id: string, seen: string[] = []): Promise<Operation> => operations.finalOperation(id, seen, 15_000);

/** Every request carried the operation's correlation id and our issuer id, and the same body. */
function expectSameCall(requests: RequestRecord[], op: Operation): void {
  for (const r of requests) {
    expect(r.headers).toEqual({ 'x-correlation-id': op.correlationId, 'x-issuer-id': 'ISSUER0001' });
    expect(r.body).toEqual(requests[0]!.body);
  }
}

/** Runs one TOKEN-scope SUSPEND under the given updateCardState fault and returns the final operation. */
async function suspendUnder(label: string, fault: Record<string, unknown>) {
  const { card, vc } = ids(label);
  await seedToken(card, vc);
  await d1.setFaults({ updateCardState: fault });
  const op = await requestOperation({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc });
  const seen: string[] = [];
  const done = await finalOperation(op.operationId, seen);
  return { card, vc, op, done, seen };
}

// ---------------------------------------------------------------------------------------------------------

describe('transient answers are retried with the same x-correlation-id (rule 9)', () => {
  it('HTTP 500 twice, then 200 → SUCCEEDED after 3 attempts, PENDING meanwhile, retries ≥ 1 s apart', async () => {
    const { card, vc, op, done, seen } = await suspendUnder('500x2', { mode: 'http500', times: 2 });
    expect(done).toMatchObject({ status: 'SUCCEEDED', submitAttempts: 3, failure: null, tokens: [{ virtualCardId: vc, outcome: 'SUCCEEDED' }] });
    expectForwardOnly(seen);
    expect(seen).not.toContain('FAILED');
    const sent = await requestsForCard(card);
    expect(sent.map((r) => r.status)).toEqual([500, 500, 200]);
    expectSameCall(sent, op);
    expect(sent[0]!.body).toEqual({ issuerCardRefId: card, virtualCardId: vc, action: 'SUSPEND' });
    // Each retry is a delayed SQS message: DelaySeconds ≥ 1 s (a 200 ms base rounds up to 1 s).
    for (let i = 1; i < sent.length; i++) expect(Date.parse(sent[i]!.at) - Date.parse(sent[i - 1]!.at)).toBeGreaterThanOrEqual(900);
    expect(await getToken(vc)).toMatchObject({ state: 'SUSPENDED', lastOperationId: op.operationId });
  });

  it('400 with responseCode 921, then 200 → retried and SUCCEEDED', async () => {
    const { card, op, done } = await suspendUnder('921', { mode: 'reject400', responseCode: 921, times: 1 });
    expect(done).toMatchObject({ status: 'SUCCEEDED', submitAttempts: 2, failure: null });
    const sent = await requestsForCard(card);
    expect(sent.map((r) => r.status)).toEqual([400, 200]);
    expectSameCall(sent, op);
  });

  it('429, then 200 → retried and SUCCEEDED', async () => {
    const { card, op, done } = await suspendUnder('429', { mode: 'http429', times: 1 });
    expect(done).toMatchObject({ status: 'SUCCEEDED', submitAttempts: 2, failure: null });
    const sent = await requestsForCard(card);
    expect(sent.map((r) => r.status)).toEqual([429, 200]);
    expectSameCall(sent, op);
  });

  it('a timeout (no answer within D1_TIMEOUT_MS 500), then 200 → retried and SUCCEEDED', async () => {
    const { card, op, done } = await suspendUnder('timeout', { mode: 'timeout', times: 1 });
    expect(done).toMatchObject({ status: 'SUCCEEDED', submitAttempts: 2, failure: null });
    const sent = await requestsForCard(card);
    expect(sent.map((r) => r.status)).toEqual([null, 200]); // the first one was held open, never answered
    expectSameCall(sent, op);
  });
});

describe('final answers', () => {
  it('400 with responseCode 111 → FAILED {D1_REJECTED, responseCode 111} after exactly 1 request', async () => {
    const { card, vc, op, done } = await suspendUnder('reject', { mode: 'reject400', responseCode: 111, times: 1 });
    expect(done).toMatchObject({ status: 'FAILED', submitAttempts: 1, failure: { reason: 'D1_REJECTED', responseCode: 111 }, tokens: [] });
    await d1.quiet(); // no retry queued, delayed or in flight: a second call cannot come any more
    const sent = await requestsForCard(card);
    expect(sent).toHaveLength(1);
    expectSameCall(sent, op);
    expect(await getOperation(op.operationId)).toEqual(done);
    expect(await getToken(vc)).toMatchObject({ state: 'ACTIVE', lastOperationId: null });
  });

  it(`HTTP 500 on every attempt → FAILED {D1_UNAVAILABLE} after exactly D1_MAX_ATTEMPTS (${MAX_ATTEMPTS}) requests, no more`, async () => {
    const { card, vc, op, done, seen } = await suspendUnder('unavailable', { mode: 'http500', times: MAX_ATTEMPTS + 2 });
    expect(done).toMatchObject({ status: 'FAILED', submitAttempts: MAX_ATTEMPTS, failure: { reason: 'D1_UNAVAILABLE' } });
    expectForwardOnly(seen);
    await d1.quiet(); // nothing queued, delayed or in flight: there is no 4th call to come
    const sent = await requestsForCard(card);
    expect(sent.map((r) => r.status)).toEqual(Array(MAX_ATTEMPTS).fill(500));
    expectSameCall(sent, op);
    expect(await getOperation(op.operationId)).toEqual(done);
    expect(await getToken(vc)).toMatchObject({ state: 'ACTIVE', lastOperationId: null });
  });
});

describe('late answers (rule 8)', () => {
  it('the last attempt times out after a success callback arrived → stays SUCCEEDED, never D1_UNAVAILABLE', async () => {
    const { card, vc } = ids('late-unavailable');
    await seedToken(card, vc);
    await d1.setFaults({ updateCardState: { mode: 'http500', times: MAX_ATTEMPTS - 1 } });
    const op = await requestOperation({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc });

    // Once the transient failures are used up, D1 holds the last attempt open (it will time out: transient, and
    // no attempts left) and, meanwhile, reports the change as done.
    await eventually(async () => ((await requestsForCard(card)).length === MAX_ATTEMPTS - 1 ? true : undefined), 10_000, 20);
    await d1.setFaults({ updateCardState: { mode: 'timeout', times: 1 } });
    await eventually(async () => ((await requestsForCard(card)).length === MAX_ATTEMPTS ? true : undefined), 10_000, 10);
    const cb = await d1.simCallback({
      issuerCardRefId: card,
      virtualCardId: vc,
      action: 'SUSPEND',
      source: 'ISSUER',
      correlationId: op.correlationId,
    });
    expect(cb.statuses).toEqual([200]);

    const seen: string[] = [];
    await finalOperation(op.operationId, seen);
    await d1.quiet(); // the held attempt's message is done: it timed out (500 ms) and its late answer is recorded
    const done = await finalOperation(op.operationId, seen);
    expect(done).toMatchObject({ status: 'SUCCEEDED', submitAttempts: MAX_ATTEMPTS, failure: null, tokens: [{ virtualCardId: vc, outcome: 'SUCCEEDED' }] });
    expect(seen.filter((status) => status !== 'PENDING')).toEqual(['SUCCEEDED']); // never FAILED, not even briefly
    const sent = await requestsForCard(card);
    expect(sent.map((r) => r.status)).toEqual([...Array(MAX_ATTEMPTS - 1).fill(500), null]);
    expectSameCall(sent, op);
  });
});

describe('correlation ids (rule 9)', () => {
  it('two operations on the same token get different correlation ids, each used on its own requests only', async () => {
    const { card, vc } = ids('distinct');
    await seedToken(card, vc);
    const op1 = await requestOperation({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc });
    await finalOperation(op1.operationId);
    const op2 = await requestOperation({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc });
    await finalOperation(op2.operationId);
    expect(op1.operationId).not.toBe(op2.operationId);
    expect(op1.correlationId).not.toBe(op2.correlationId);
    const sent = await requestsForCard(card);
    expect(sent.map((r) => r.headers['x-correlation-id'])).toEqual([op1.correlationId, op2.correlationId]);
  });

  it('across this whole file: every operation has its own correlation id, and each id went to D1 for one operation only', async () => {
    await sim.idle();
    const correlationIds = created.map((op) => op.correlationId);
    expect(new Set(correlationIds).size).toBe(created.length);
    const all = await d1Requests();
    for (const op of created) {
      const mine = all.filter((r) => r.headers['x-correlation-id'] === op.correlationId);
      expect(mine.length).toBeGreaterThan(0);
      for (const r of mine) expect(r.body).toMatchObject({ issuerCardRefId: op.issuerCardRefId, virtualCardId: op.virtualCardId, action: op.action });
    }
    expect(all.every((r) => correlationIds.includes(r.headers['x-correlation-id'] ?? ''))).toBe(true);
  });
});
