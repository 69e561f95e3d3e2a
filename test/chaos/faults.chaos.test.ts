import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBClient as RawDynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { setDynamoDbClientHook } from '../../lambdas/adapters/dynamodb-client';
import { lambdaContext } from '../../local/lambda-context';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provisionResources, type ProvisionedResources } from '../../local/local-aws';
import { startLocalService, type LocalService } from '../../local/service';
import type { SqsHandler } from '../../local/sqs-poller';
import { QUEUE_CONSUMERS } from '../../lambdas/topology';
import { TEST_ENV } from '../support/stack';
import { chaosSeed, FULL, report, runs, sleep } from './support/config';
import { startOwnEngine, type OwnEngine } from './support/own-engine';
import { identityOf, LifecycleOracle } from './support/lifecycle-oracle';
import { apiHistory, getToken, postJson, quiesce, queueDepth, tableHistory, type HistoryEventView } from './support/probes';

/**
 * Infrastructure faults, on an engine of this file's own (DynamoDB Local + fauxqs, started by
 * startLocalAws() in a child process: support/own-engine.ts): the shared one of the Jest global setup must never be
 * paused, other files use it at the same time.
 *
 *  (a) DynamoDB unavailable in the middle of a stream of callbacks: ~30 % into 1 000 webhook calls (bounded: 300)
 *      the DynamoDB Local JVM is SIGSTOPped for ~3 s, then SIGCONTed. The webhook only needs SQS, so it keeps
 *      answering 200; the apply consumers' SDK calls time out (500 ms request timeout set through the
 *      documentClient() hook, SDK retries included) and the messages stay in SQS. Afterwards: every distinct
 *      callback is in its token's history exactly once, tokens equal the oracle replay of their history, renewals
 *      equal the distinct successful RENEWs, nothing in the DLQ (visibility 2 s and a 3 s pause keep receives < 5).
 *  (b) A consumer crash after the DynamoDB write but before the SQS delete: the real apply handler runs, then the
 *      wrapper throws, for the first N batches; the redelivery must be a no-op (one event each, version = events).
 *  (c) The same callback delivered to two consumers at once: the real handler module invoked twice concurrently
 *      with the same SQS record, 50 different callbacks → one event each, applied once.
 */

const SEED = chaosSeed();
const STREAM = runs('CHAOS_STREAM_CALLBACKS', 1000, 300);
const STREAM_TOKENS = FULL ? 50 : 20;
const PAUSE_MS = 3000;
const CRASH_BATCHES = 5;
const CONCURRENT_PAIRS = 50;
const SDK_REQUEST_TIMEOUT_MS = 500;

let engines: OwnEngine;
let resources: ProvisionedResources;
let service: LocalService;
let ddb: DynamoDBDocumentClient;
let sqs: SQSClient;
let url: string;
let savedEnv: NodeJS.ProcessEnv;

/** The real apply handler, as the poller and test (c) get it. */
let realApply: SqsHandler;
/** Test (b): batches still to crash after the real handler ran. */
let crashesLeft = 0;
const counters = { batches: 0, recordsSeen: 0, handlerThrew: 0, recordsReportedFailed: 0, crashes: 0, maxReceiveCount: 0, foreignFailureIds: 0 };
const pollerLog: string[] = [];

beforeAll(async () => {
  savedEnv = { ...process.env };
  engines = await startOwnEngine();
  resources = await provisionResources({
    ddbEndpoint: engines.ddbEndpoint,
    sqsEndpoint: engines.sqsEndpoint,
    prefix: `chaos${randomUUID().slice(0, 6)}-`,
    visibilityTimeoutSeconds: 2,
  });
  Object.assign(process.env, TEST_ENV, engines.env, resources.env);
  // Short SDK timeouts on the handlers' clients (the adapters' instrumentation seam), so a paused DynamoDB makes
  // consumers fail within the visibility timeout instead of hanging until it resumes.
  setDynamoDbClientHook((client: DynamoDBClient) => {
    const handler = client.config.requestHandler as { updateHttpClientConfig?: (key: string, value: unknown) => void };
    handler.updateHttpClientConfig?.('requestTimeout', SDK_REQUEST_TIMEOUT_MS);
    handler.updateHttpClientConfig?.('throwOnRequestTimeout', true);
    handler.updateHttpClientConfig?.('connectionTimeout', SDK_REQUEST_TIMEOUT_MS);
  });
  service = await startLocalService({
    port: 0,
    sqsEndpoint: engines.sqsEndpoint,
    queues: resources.queues,
    schedules: [],
    // CHAOS_CONSUMER_CONCURRENCY=1 (diagnosis): one poller loop, so the handler module never runs two batches at once.
    consumers: QUEUE_CONSUMERS.filter((c) => c.queue === 'issuerCallbacks').map((c) =>
      process.env.CHAOS_CONSUMER_CONCURRENCY ? { ...c, maxConcurrency: Number(process.env.CHAOS_CONSUMER_CONCURRENCY) } : c,
    ),
    log: (line) => pollerLog.push(line),
    loadConsumer: async () => {
      realApply = (await import('../../lambdas/handlers/apply-virtual-card-change')).handler as SqsHandler;
      const wrapped: SqsHandler = async (event, context) => {
        counters.batches++;
        counters.recordsSeen += event.Records.length;
        for (const r of event.Records) counters.maxReceiveCount = Math.max(counters.maxReceiveCount, Number(r.attributes.ApproximateReceiveCount));
        let response;
        try {
          response = await realApply(event, context);
        } catch (err) {
          counters.handlerThrew++;
          throw err;
        }
        counters.recordsReportedFailed += response?.batchItemFailures.length ?? 0;
        // A failure reported for a message that is not in this batch: the answer belongs to another invocation.
        const mine = new Set(event.Records.map((r) => r.messageId));
        counters.foreignFailureIds += (response?.batchItemFailures ?? []).filter((f) => !mine.has(f.itemIdentifier)).length;
        if (crashesLeft > 0) {
          crashesLeft--;
          counters.crashes++;
          throw new Error('chaos: consumer crashed after its writes, before the SQS delete');
        }
        return response;
      };
      return wrapped;
    },
  });
  url = service.gateway.url;
  const config = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  ddb = DynamoDBDocumentClient.from(new RawDynamoDBClient({ ...config, endpoint: engines.ddbEndpoint }));
  sqs = new SQSClient({ ...config, endpoint: engines.sqsEndpoint });
}, 60_000);

afterAll(async () => {
  await service?.stop();
  ddb?.destroy();
  sqs?.destroy();
  await engines?.stop();
  setDynamoDbClientHook(() => undefined);
  process.env = savedEnv;
});

// ------------------------------------------------------------------------------------------------ helpers

interface Sent {
  correlationId: string;
  issuerCardRefId: string;
  virtualCardId: string;
  action: string;
  errorCode: number | null;
  source: string | null;
}

const webhook = (cb: Sent) =>
  postJson(
    `${url}/issuer/igwapi/v2.0/notifyVirtualCardChange`,
    {
      issuerCardRefId: cb.issuerCardRefId,
      virtualCardId: cb.virtualCardId,
      action: cb.action,
      ...(cb.errorCode !== null ? { errorCode: cb.errorCode } : {}),
      ...(cb.source !== null ? { source: cb.source } : {}),
      walletProviderId: 'APPLE_PAY',
    },
    { 'x-correlation-id': cb.correlationId, 'x-issuer-id': TEST_ENV.ISSUER_ID },
  );

/** The callbacks and tokens of one check: random but seeded; no DELETE, so renewals do not depend on order. */
function callbackStream(label: string, count: number, tokens: number, seedOffset: number): Sent[] {
  const prefix = `${label}-${randomUUID().slice(0, 6)}`;
  const arb = fc.array(
    fc.record({
      token: fc.nat({ max: tokens - 1 }),
      action: fc.constantFrom('ACTIVATE', 'SUSPEND', 'RESUME', 'RENEW', 'RENEW', 'SUSPEND', 'NOT_YET_DEFINED'),
      failed: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      source: fc.constantFrom<string | null>('WALLET', 'TSP', null),
      /** Index of an earlier callback this one duplicates (D1 redelivering), if any. */
      duplicateOf: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
    }),
    { minLength: count, maxLength: count },
  );
  const [specs] = fc.sample(arb, { seed: SEED + seedOffset, numRuns: 1 });
  const out: Sent[] = [];
  specs!.forEach((s, i) => {
    if (s.duplicateOf !== null && i > 0) {
      out.push({ ...out[s.duplicateOf % i]! });
      return;
    }
    out.push({
      correlationId: `${prefix}-${i}`,
      issuerCardRefId: `${prefix}-card-${s.token % 7}`,
      virtualCardId: `${prefix}-vc-${s.token}`,
      action: s.action,
      errorCode: s.failed ? 221 : null,
      source: s.source,
    });
  });
  return out;
}

async function waitQuiet(timeoutMs = 60_000): Promise<number> {
  return quiesce({ service, sqs, queueUrls: [resources.queues.issuerCallbacks.url], timeoutMs });
}

/**
 * Exactly once + oracle: per token, the history holds each distinct callback once and nothing else; replaying that
 * history through the oracle gives every event and the token; renewals = distinct successful RENEWs; the token's
 * version moved once per event recorded against it (no write beyond the one per distinct callback).
 */
async function checkApplied(sent: Sent[]): Promise<{ violations: string[]; events: number }> {
  const v: string[] = [];
  const byToken = new Map<string, Map<string, Sent>>();
  for (const cb of sent) {
    const m = byToken.get(cb.virtualCardId) ?? new Map<string, Sent>();
    m.set(identityOf(cb), cb);
    byToken.set(cb.virtualCardId, m);
  }
  let events = 0;
  for (const [vc, distinct] of byToken) {
    const token = await getToken(url, vc);
    const history: HistoryEventView[] = (await apiHistory(url, vc)) ?? (await tableHistory(ddb, process.env.TABLE_NAME!, vc));
    events += history.length;
    const ids = history.map((e) => identityOf({ correlationId: e.correlationId, virtualCardId: vc, action: e.action, errorCode: e.errorCode }));
    if (new Set(ids).size !== ids.length) v.push(`${vc}: a callback recorded twice (${ids.length} events, ${new Set(ids).size} distinct)`);
    for (const id of distinct.keys()) if (!ids.includes(id)) v.push(`${vc}: ${id} was acknowledged but never applied (lost)`);
    for (const id of ids) if (!distinct.has(id)) v.push(`${vc}: history has ${id}, never sent`);

    const oracle = new LifecycleOracle(3);
    history.forEach((e, n) => {
      const cb = distinct.get(ids[n]!);
      if (!cb) return;
      const verdict = oracle.callback({ ...cb, receivedAt: e.at }); // arrival = the webhook's stamp (rule 5)
      if (verdict.duplicate) return;
      if (verdict.outcome !== e.outcome || verdict.stateAfter !== e.stateAfter || verdict.source !== e.source) {
        v.push(`${vc}: event ${n} ${ids[n]} is ${e.outcome}/${e.stateAfter}/${e.source}, oracle ${verdict.outcome}/${verdict.stateAfter}/${verdict.source}`);
      }
    });
    const want = oracle.tokens.get(vc) ?? null;
    const renewals = [...distinct.values()].filter((c) => c.action === 'RENEW' && c.errorCode === null).length;
    if (!want !== !token) v.push(`${vc}: ${token ? 'exists' : 'unknown'} but the oracle says ${want ? 'exists' : 'unknown'}`);
    if (token && want) {
      const got = { state: token.state, renewals: token.renewals, lastAction: token.lastAction, lastChangeSource: token.lastChangeSource };
      const exp = { state: want.state, renewals: want.renewals, lastAction: want.lastAction, lastChangeSource: want.lastChangeSource };
      if (JSON.stringify(got) !== JSON.stringify(exp)) v.push(`${vc}: token ${JSON.stringify(got)}, oracle ${JSON.stringify(exp)}`);
      if (token.renewals !== renewals) v.push(`${vc}: renewals ${token.renewals}, ${renewals} distinct successful RENEWs sent`);
      const item = (await ddb.send(new GetCommand({ TableName: process.env.TABLE_NAME!, Key: { pk: `TOKEN#${vc}`, sk: 'TOKEN' }, ConsistentRead: true }))).Item;
      const withToken = history.filter((e) => e.stateAfter !== null).length;
      if (item?.version !== withToken) v.push(`${vc}: version ${item?.version} after ${withToken} events recorded against the token (an extra write)`);
    }
  }
  return { violations: v, events };
}

async function dlqDepth(): Promise<number> {
  return queueDepth(sqs, resources.queues.issuerCallbacks.dlqUrl);
}

/** Sends with `concurrency` requests in flight; `onProgress(sent)` after each. Every answer must be 200. */
async function sendAll(callbacks: Sent[], concurrency: number, onProgress: (sent: number) => void = () => undefined): Promise<string[]> {
  const problems: string[] = [];
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < callbacks.length) {
        const cb = callbacks[next++]!;
        const res = await webhook(cb);
        if (res.status !== 200) problems.push(`webhook answered ${res.status} ${JSON.stringify(res.body)} for ${identityOf(cb)}`);
        onProgress(++done);
      }
    }),
  );
  return problems;
}

const results: Record<string, unknown> = {};
const started = Date.now();

afterAll(() => {
  report('faults.chaos.test.ts', {
    seed: SEED,
    replay: `CHAOS_SEED=${SEED}${FULL ? ' CHAOS_FULL=1' : ''} npx jest test/chaos/faults`,
    ...results,
    'consumer batches / records handled': `${counters.batches} / ${counters.recordsSeen}`,
    'handler threw / records reported failed / injected crashes': `${counters.handlerThrew} / ${counters.recordsReportedFailed} / ${counters.crashes}`,
    'max ApproximateReceiveCount': counters.maxReceiveCount,
    'batchItemFailures naming messages of another batch': counters.foreignFailureIds,
    duration: `${((Date.now() - started) / 1000).toFixed(1)} s`,
  });
});

// ------------------------------------------------------------------------------------------------ (a)

it(
  `(a) DynamoDB paused (SIGSTOP ${PAUSE_MS} ms) ~30 % into ${STREAM} callbacks: nothing lost, nothing applied twice, DLQ empty`,
  async () => {
    const stream = callbackStream('fa', STREAM, STREAM_TOKENS, 1);
    const before = { ...counters };
    const t0 = Date.now();
    let paused: Promise<void> | undefined;
    let pausedAt = 0;
    const problems = await sendAll(stream, 8, (sent) => {
      if (paused || sent < Math.floor(stream.length * 0.3)) return;
      pausedAt = Date.now();
      engines.pause();
      paused = sleep(PAUSE_MS).then(() => engines.resume());
    });
    const sendMs = Date.now() - t0;
    await paused;
    const quietMs = await waitQuiet(90_000);
    const { violations, events } = await checkApplied(stream);
    const dlq = await dlqDepth();
    const failures = counters.handlerThrew - before.handlerThrew + (counters.recordsReportedFailed - before.recordsReportedFailed);
    results['(a) callbacks sent / distinct / events recorded'] = `${stream.length} / ${new Set(stream.map(identityOf)).size} / ${events}`;
    results['(a) paused at / send took / drained after'] = `${pausedAt - t0} ms / ${sendMs} ms / ${quietMs} ms`;
    results['(a) consumer failures during the pause (batches thrown + records reported)'] = failures;
    results['(a) poller log lines'] = pollerLog.length;
    expect(problems).toEqual([]);
    expect(violations).toEqual([]);
    expect(dlq).toBe(0);
    expect(counters.maxReceiveCount).toBeLessThan(5);
    // The fault must actually have hit the consumers, or this proved nothing.
    expect(failures).toBeGreaterThan(0);
  },
  FULL ? 600_000 : 120_000,
);

// ------------------------------------------------------------------------------------------------ (b)

it(`(b) a consumer crash after the DynamoDB write, before the SQS delete (${CRASH_BATCHES} batches): redelivery is a no-op`, async () => {
  const stream = callbackStream('fb', 60, 8, 2);
  const crashesBefore = counters.crashes;
  crashesLeft = CRASH_BATCHES;
  const problems = await sendAll(stream, 4);
  const quietMs = await waitQuiet();
  const { violations, events } = await checkApplied(stream);
  results['(b) callbacks sent / events / crashes injected / drained after'] =
    `${stream.length} / ${events} / ${counters.crashes - crashesBefore} / ${quietMs} ms`;
  expect(problems).toEqual([]);
  expect(counters.crashes - crashesBefore).toBe(CRASH_BATCHES);
  expect(violations).toEqual([]);
  expect(await dlqDepth()).toBe(0);
}, 60_000);

// ------------------------------------------------------------------------------------------------ (c)

function sqsRecordOf(cb: Sent): SQSRecord {
  const body = JSON.stringify({
    correlationId: cb.correlationId,
    issuerCardRefId: cb.issuerCardRefId,
    virtualCardId: cb.virtualCardId,
    action: cb.action,
    errorCode: cb.errorCode,
    source: cb.source,
    walletProviderId: 'APPLE_PAY',
    receivedAt: new Date().toISOString(),
  });
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: 'chaos', ApproximateFirstReceiveTimestamp: String(Date.now()) },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: resources.queues.issuerCallbacks.arn,
    awsRegion: LOCAL_REGION,
  };
}

it(`(c) the same callback delivered to two consumers at once (${CONCURRENT_PAIRS} callbacks): one event each, applied once`, async () => {
  const stream = callbackStream('fc', CONCURRENT_PAIRS * 2, 6, 3)
    .filter((cb, i, all) => all.findIndex((o) => identityOf(o) === identityOf(cb)) === i)
    .slice(0, CONCURRENT_PAIRS);
  const failures: string[] = [];
  for (const cb of stream) {
    const record = sqsRecordOf(cb);
    // Same message (same id and body), two receipts: SQS's at-least-once delivery to two consumers.
    const events: SQSEvent[] = [
      { Records: [record] },
      { Records: [{ ...record, receiptHandle: randomUUID(), attributes: { ...record.attributes, ApproximateReceiveCount: '2' } }] },
    ];
    const responses = await Promise.all(events.map((e) => realApply(e, lambdaContext('apply-virtual-card-change'))));
    for (const r of responses) if ((r?.batchItemFailures.length ?? 0) > 0) failures.push(`${identityOf(cb)}: ${JSON.stringify(r)}`);
  }
  const { violations, events } = await checkApplied(stream);
  results['(c) callbacks delivered twice concurrently / events recorded'] = `${stream.length} / ${events}`;
  expect(failures).toEqual([]);
  expect(violations).toEqual([]);
}, 60_000);

// ------------------------------------------------------------------------------------------------ (d)

it('(d) two batches handled at once by one handler module: each answer reports exactly its own failed records', async () => {
  // The local pollers run up to 4 receive loops on ONE handler module instance (Lambda never runs two invocations
  // at once in one instance). A record that fails must be reported in ITS batch's batchItemFailures, or the poller
  // deletes it: a callback acknowledged with 200 and never applied.
  const lost: string[] = [];
  // Control: on its own, the same batch reports its poison record.
  const [solo] = callbackStream('fd-solo', 1, 1, 99);
  const soloPoison: SQSRecord = { ...sqsRecordOf(solo!), messageId: 'poison-solo', body: '{"not":"a callback"}' };
  const soloAnswer = await realApply({ Records: [soloPoison, sqsRecordOf(solo!)] }, lambdaContext('apply-virtual-card-change'));
  expect(soloAnswer?.batchItemFailures).toEqual([{ itemIdentifier: 'poison-solo' }]);
  for (let round = 0; round < 20; round++) {
    const [good1, good2, good3] = callbackStream(`fd${round}`, 3, 3, 100 + round);
    const poison: SQSRecord = { ...sqsRecordOf(good1!), messageId: `poison-${round}`, body: '{"not":"a callback"}' };
    const a: SQSEvent = { Records: [poison, sqsRecordOf(good1!)] };
    const b: SQSEvent = { Records: [sqsRecordOf(good2!), sqsRecordOf(good3!)] };
    const answerA = realApply(a, lambdaContext('apply-virtual-card-change'));
    await new Promise((resolve) => setImmediate(resolve)); // A's poison record has failed; A still awaits its good one
    const answerB = realApply(b, lambdaContext('apply-virtual-card-change'));
    const [ra, rb] = await Promise.allSettled([answerA, answerB]);
    const failedA = ra.status === 'fulfilled' ? (ra.value?.batchItemFailures ?? []).map((f) => f.itemIdentifier) : ['(threw)'];
    const failedB = rb.status === 'fulfilled' ? (rb.value?.batchItemFailures ?? []).map((f) => f.itemIdentifier) : ['(threw)'];
    if (!failedA.includes(poison.messageId) || failedB.length > 0) {
      lost.push(
        `round ${round}: batch A reported ${JSON.stringify(failedA)}, batch B ${JSON.stringify(failedB)} (A's poison record ${poison.messageId} must be in A's answer only)`,
      );
    }
  }
  results['(d) concurrent batches whose failure was misreported'] = `${lost.length} / 20`;
  expect(lost).toEqual([]);
});
