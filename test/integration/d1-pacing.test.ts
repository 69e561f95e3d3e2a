import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbOperationStore } from '../../lambdas/adapters/dynamodb-operation-store';
import { newOperation } from '../../lambdas/domain/operation';
import type { RequestRecord } from '../../local/d1-simulator';
import { maxInAnyWindow } from '../../local/d1-simulator/pace';
import type { Operation } from '../support/contract-types';
import { uid } from '../support/ids';
import { issuerRoutes } from '../support/routes';
import { useStackWithSimulator } from '../support/simulator';
import { eventually } from '../support/stack';

/**
 * DESIGN §9's pace end to end: the real d1-submitter (interactive lane, d1-requests) and d1-bulk-submitter (bulk
 * lane, d1-bulk-requests) with their local pollers (4 receive loops each, like 4 concurrent Lambdas), sharing one
 * DynamoDB pace, against the D1 simulator, which timestamps every call as it arrives. CARD-scope operations on cards
 * D1 does not know: each is one updateCardState answered 200 at once, with no callbacks.
 */

const TPS = 20;
const { d1, stack } = useStackWithSimulator({
  d1BaseUrlEnv: 'D1_ISSUER_BASE_URL',
  env: { D1_MAX_TPS: String(TPS), D1_RETRY_BASE_DELAY_MS: '200', D1_MAX_ATTEMPTS: '5' },
});

const updates = (): Promise<RequestRecord[]> => d1.simRequests('/updateCardState');
/** The simulator's pace figures: cheap to poll (the full request log is not, and polling it would slow the pace). */
const pace = () => d1.simCall<{ path: string; calls: number; maxInAnySecond: number }>('GET', '/_sim/requests/pace?path=/updateCardState');
const callsReach = (n: number, timeoutMs = 20_000) => eventually(async () => ((await pace()).calls >= n ? true : undefined), timeoutMs, 100);
const times = (requests: RequestRecord[]): number[] => requests.map((r) => r.receivedAtMs);
const between = (requests: RequestRecord[], fromMs: number, toMs: number): number =>
  requests.filter((r) => r.receivedAtMs >= fromMs && r.receivedAtMs < toMs).length;

/** `n` PENDING CARD-scope operations, as a bulk job would start them, on the bulk queue (attempt 1 each). */
async function bulkOperations(n: number): Promise<string[]> {
  const store = new DynamoDbOperationStore(stack.ddb, stack.resources.env.TABLE_NAME!);
  const batch = uid();
  const ops = Array.from({ length: n }, (_, i) =>
    newOperation({ operationId: randomUUID(), action: 'SUSPEND', issuerCardRefId: `card-bulk-${batch}-${i}`, expectedTokens: [], now: new Date() }),
  );
  for (let i = 0; i < ops.length; i += 25) await Promise.all(ops.slice(i, i + 25).map((op) => store.create(op)));
  return ops.map((op) => op.operationId);
}

async function enqueueBulk(operationIds: string[]): Promise<void> {
  const QueueUrl = stack.resources.queues.d1BulkRequests.url;
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < operationIds.length; i += 10) {
    const Entries = operationIds.slice(i, i + 10).map((operationId, n) => ({ Id: String(n), MessageBody: JSON.stringify({ operationId, attempt: 1 }) }));
    sends.push(stack.sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries })));
  }
  await Promise.all(sends);
}

const { getOperation } = issuerRoutes(() => stack.url);

async function interactiveOperation(): Promise<Operation> {
  const res = await fetch(`${stack.url}/v1/lcm-operations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ action: 'SUSPEND', issuerCardRefId: `card-interactive-${uid()}` }),
  });
  expect(res.status).toBe(202);
  return (await res.json()) as Operation;
}

const notPending = (id: string) => eventually(async () => ((await getOperation(id)).status !== 'PENDING' ? true : undefined), 20_000, 50);

/**
 * The pace never lets more than D1_MAX_TPS through, whatever the load: that is always asserted. How much of the
 * budget the local pipeline (gateway, pollers, submitters, simulator and DynamoDB Local on one 2-core box) manages
 * to use depends on the CPU it gets, so the efficiency bounds apply only when this process's event loop kept up
 * (p99 delay under 40 ms, what the guard allows); otherwise the figures are printed, not asserted.
 */
// Each scenario runs seconds of paced calls (300 operations at 20 a second in the last): on a starved box, beside a
// second Jest worker, that takes longer than Jest's default 30 s. The bounds asserted do not depend on it.
jest.setTimeout(120_000);

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
afterAll(() => loopDelay.disable());
function keptUp(): boolean {
  const p99 = loopDelay.percentile(99) / 1e6;
  console.log(`event-loop delay p99 ${p99.toFixed(0)} ms${p99 < 40 ? '' : ': the box is starved, efficiency bounds not asserted'}`);
  return p99 < 40;
}

beforeEach(async () => {
  await d1.quiet();
  await d1.simCall('DELETE', '/_sim/requests');
  loopDelay.reset();
});

it(`${3 * TPS} bulk and 6 interactive operations: never more than D1_MAX_TPS (${TPS}) calls in any sliding second, done close to N / D1_MAX_TPS`, async () => {
  const bulk = await bulkOperations(3 * TPS);
  const started = Date.now();
  await enqueueBulk(bulk);
  const interactive: Operation[] = [];
  for (let i = 0; i < 6; i++) {
    interactive.push(await interactiveOperation());
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  const total = bulk.length + interactive.length;
  await callsReach(total);
  const sent = await updates();
  const first = Math.min(...times(sent));
  const last = Math.max(...times(sent));
  const floor = (total / TPS) * 1000;
  const figures = await pace();
  console.log(
    `pace: ${total} calls, max ${figures.maxInAnySecond} in any sliding second (D1_MAX_TPS ${TPS}); ${last - started} ms from the enqueue ` +
      `(first call after ${first - started} ms), ${last - first} ms first to last, for a floor of ${floor} ms (${((last - started) / floor).toFixed(2)}×)`,
  );
  expect(figures).toEqual({ path: '/updateCardState', calls: total, maxInAnySecond: maxInAnyWindow(times(sent)) });
  expect(figures.maxInAnySecond).toBeLessThanOrEqual(TPS);
  // At this small N fixed costs weigh most: the first slot (0.3–0.5 s after the enqueue on an idle box), the guard slot
  // (1 in 20) and the 1 s SQS delay of the last deferred attempts. The steady rate is checked in the backlog test.
  if (keptUp()) expect(last - first).toBeLessThanOrEqual(floor * 1.3);
  // Every call once: none lost, none doubled.
  expect(new Set(sent.map((r) => r.headers['x-correlation-id'])).size).toBe(total);
  for (const op of interactive) await notPending(op.operationId);
});

it('a 429/503 burst halves the pace for every consumer, which then recovers by itself', async () => {
  const bulk = await bulkOperations(7 * TPS);
  await enqueueBulk(bulk);
  await callsReach(TPS);
  await d1.setFaults({ updateCardState: { mode: 'http429', times: 3 } });
  await eventually(
    async () => ((await d1.simCall<{ updateCardState: { mode: string } }>('GET', '/_sim/faults')).updateCardState.mode === 'ok' ? true : undefined),
    5_000,
    20,
  );
  await d1.setFaults({ updateCardState: { mode: 'http503', times: 2 } });
  const firstThrottle = (await updates()).find((r) => r.status === 429)!.receivedAtMs;

  const backoff = await stack.ddb.send(new GetCommand({ TableName: stack.resources.env.TABLE_NAME!, Key: { pk: 'PACE#d1', sk: 'BACKOFF' } }));
  expect(backoff.Item).toMatchObject({ rate: expect.any(Number) });
  expect(backoff.Item!.rate).toBeLessThanOrEqual(TPS / 2);

  await new Promise((resolve) => setTimeout(resolve, firstThrottle + 5600 - Date.now()));
  const sent = await updates();
  // What the pace handed out: each second's capacity, fixed when its counter was created.
  const { Items = [] } = await stack.ddb.send(
    new QueryCommand({
      TableName: stack.resources.env.TABLE_NAME!,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :second)',
      ExpressionAttributeValues: { ':pk': 'PACE#d1', ':second': 'SECOND#' },
    }),
  );
  const capacity = (fromMs: number) => Items.filter((i) => Number(String(i.sk).slice('SECOND#'.length)) * 1000 >= fromMs).map((i) => Number(i.c));
  // Seconds already handed out keep their slots (up to ~1.2 s ahead); the second after those runs at about half.
  const slowed = between(sent, firstThrottle + 1500, firstThrottle + 2500);
  const recovered = between(sent, firstThrottle + 4500, firstThrottle + 5500);
  console.log(
    `back-off: ${slowed} calls in the second 1.5 s after the first 429, ${recovered} calls 4.5 s after it (D1_MAX_TPS ${TPS}); ` +
      `capacities from the cut on: ${capacity(firstThrottle).join(' ')}`,
  );
  // The calls counted in a wall-clock window are printed, not asserted (timer and scheduling noise on a shared box);
  // the capacities the pace handed out, read from its items, are the check.
  // The rate in force climbs back: half, then + ceil(20 / 8) a second, up to the 19 usable slots. (Measured calls
  // follow it on an idle box; on a loaded one the local pipeline, not the pace, can be the bottleneck.)
  expect(Math.min(...capacity(firstThrottle))).toBeLessThanOrEqual(TPS / 2 + 3);
  expect(capacity(firstThrottle + 4000)).toContain(19);
  expect(maxInAnyWindow(times(sent))).toBeLessThanOrEqual(TPS);
  // The throttled attempts were retried like any transient answer.
  expect(sent.filter((r) => r.status === 503)).toHaveLength(2);
});

it('an interactive operation is not stuck behind a bulk backlog: it reaches D1 within ~1–2 s, while bulk uses the rest of the budget', async () => {
  const bulk = await bulkOperations(15 * TPS);
  await enqueueBulk(bulk);
  await callsReach(TPS);
  const waits: number[] = [];
  for (let i = 0; i < 3; i++) {
    const requested = Date.now();
    const op = await interactiveOperation();
    await notPending(op.operationId);
    const call = (await updates()).find((r) => r.headers['x-correlation-id'] === op.correlationId)!;
    waits.push(call.receivedAtMs - requested);
  }
  const sent = await updates();
  // With a backlog the budget is used (less the guard slot): the steady rate, once the first second is behind.
  const from = Math.min(...times(sent)) + 1000;
  const steady = sent.filter((r) => r.receivedAtMs >= from);
  const rate = (steady.length * 1000) / (Math.max(...times(steady)) - from);
  console.log(
    `interactive behind ${bulk.length} bulk operations: reached D1 after ${waits.join(', ')} ms; steady rate ${rate.toFixed(1)} calls/s (D1_MAX_TPS ${TPS})`,
  );
  if (keptUp()) {
    for (const wait of waits) expect(wait).toBeLessThanOrEqual(2000);
    // 18.8 of the 19 usable calls/s on an idle box, 16.9 beside a second Jest worker: the backlog keeps the lane busy.
    expect(rate).toBeGreaterThanOrEqual(TPS * 0.75);
  }
  expect(maxInAnyWindow(times(sent))).toBeLessThanOrEqual(TPS);
});
