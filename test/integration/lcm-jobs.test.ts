import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { ErrorBody, Job, JobCardsPage, Operation } from '../support/contract-types';
import { ids, uid } from '../support/ids';
import { issuerRoutes } from '../support/routes';
import { useStackWithSimulator } from '../support/simulator';

/**
 * Bulk LCM jobs end to end (DESIGN §9) on the real local stack: the lcm-jobs routes, the job runner's ticks on
 * lcm-jobs (fauxqs), each card's CARD-scope operation on the bulk lane (d1-bulk-requests → the D1 simulator), its
 * callbacks settling the card, all read back through the public routes. Every read of a job checks its counts add up.
 */

const JOBS = '/v1/lcm-jobs';
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const JOB_KEYS = ['action', 'completedAt', 'counts', 'createdAt', 'jobId', 'reason', 'startedAt', 'status', 'updatedAt'];

const { d1, stack } = useStackWithSimulator({
  d1BaseUrlEnv: 'D1_ISSUER_BASE_URL',
  env: { D1_RETRY_BASE_DELAY_MS: '200', D1_MAX_ATTEMPTS: '3', D1_TIMEOUT_MS: '500', D1_MAX_TPS: '50' },
});
const { getJson, getOperation } = issuerRoutes(() => stack.url);

interface Answer<T> {
  status: number;
  location: string | null;
  body: T;
}

async function post<T = Job>(path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const res = await fetch(stack.url + path, {
    method: 'POST',
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, location: res.headers.get('location'), body: (await res.json()) as T };
}

function expectCountsAddUp(job: Job): void {
  const c = job.counts;
  expect({ jobId: job.jobId, counts: c, addUp: c.started <= c.cards && c.started === c.SUCCEEDED + c.PARTIALLY_FAILED + c.FAILED + c.inFlight }).toMatchObject({
    addUp: true,
  });
}

async function getJob(jobId: string): Promise<Job> {
  const { status, body } = await getJson<Job>(`${JOBS}/${jobId}`);
  expect(status).toBe(200);
  expect(Object.keys(body).sort()).toEqual(JOB_KEYS);
  expectCountsAddUp(body);
  return body;
}

/** Polls the job (each read checked) until `ready` holds. */
async function jobWhen(jobId: string, ready: (job: Job) => boolean, timeoutMs = 20_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await getJob(jobId);
    if (ready(job) || Date.now() > deadline) return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const cardsOf = async (jobId: string, query = ''): Promise<Answer<JobCardsPage>> => {
  const { status, body } = await getJson<JobCardsPage>(`${JOBS}/${jobId}/cards${query}`);
  return { status, location: null, body };
};

/** Every card of the job, page by page. */
async function allCards(jobId: string, status?: string): Promise<JobCardsPage['cards']> {
  const cards: JobCardsPage['cards'] = [];
  let nextToken: string | null = null;
  do {
    const params = new URLSearchParams({ limit: '40', ...(status ? { status } : {}), ...(nextToken ? { nextToken } : {}) });
    const page = await cardsOf(jobId, `?${params}`);
    expect(page.status).toBe(200);
    cards.push(...page.body.cards);
    nextToken = page.body.nextToken;
  } while (nextToken);
  return cards;
}

/** Cards D1 knows (one token each); we do not, so each operation's expected set is empty and its callback settles it. */
async function d1Cards(label: string, n: number): Promise<string[]> {
  const suffix = uid();
  const cards = Array.from({ length: n }, (_, i) => `card-${label}-${suffix}-${i}`);
  for (const card of cards) await d1.simCall('POST', '/_sim/cards', { issuerCardRefId: card, tokens: [{ virtualCardId: `vc-${card}` }] });
  return cards;
}

async function jobItems(): Promise<number> {
  const page = await stack.ddb.send(
    new ScanCommand({
      TableName: process.env.TABLE_NAME!,
      FilterExpression: 'begins_with(pk, :job)',
      ExpressionAttributeValues: { ':job': 'JOB' },
      Select: 'COUNT',
    }),
  );
  return page.Count ?? 0;
}

// ---------------------------------------------------------------------------------------------------------

describe('rejected requests: 400 names each field, 404 for unknown jobs, nothing written', () => {
  it('POST /v1/lcm-jobs: every failing field of the body and the idempotency-key header', async () => {
    const before = await jobItems();
    const res = await post<ErrorBody>(
      JOBS,
      { action: 'FREEZE', reason: 'x'.repeat(257), issuerCardRefIds: ['ok', '', 'x'.repeat(49)] },
      { 'idempotency-key': 'k'.repeat(129) },
    );
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.fields!.map((f) => f.path).sort()).toEqual([
      'action',
      'headers.idempotency-key',
      'issuerCardRefIds.1',
      'issuerCardRefIds.2',
      'reason',
    ]);

    const empty = await post<ErrorBody>(JOBS, { action: 'SUSPEND', issuerCardRefIds: [] });
    expect(empty.body.error.fields!.map((f) => f.path)).toEqual(['issuerCardRefIds']);
    const tooMany = await post<ErrorBody>(JOBS, { action: 'SUSPEND', issuerCardRefIds: Array.from({ length: 1001 }, (_, i) => `c${i}`) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error.fields!.map((f) => f.path)).toEqual(['issuerCardRefIds']);
    const missing = await post<ErrorBody>(JOBS, {});
    expect(missing.body.error.fields!.map((f) => f.path).sort()).toEqual(['action', 'issuerCardRefIds']);
    expect(await jobItems()).toBe(before);
  });

  it('unknown jobId: 404 on every job route; a bad add-cards body or list query is a 400 naming the field', async () => {
    const unknown = `job-${uid()}`;
    for (const res of [
      await getJson<ErrorBody>(`${JOBS}/${unknown}`),
      await getJson<ErrorBody>(`${JOBS}/${unknown}/cards`),
      await post<ErrorBody>(`${JOBS}/${unknown}/cards`, { issuerCardRefIds: ['a'] }),
      await post<ErrorBody>(`${JOBS}/${unknown}/start`),
      await post<ErrorBody>(`${JOBS}/${unknown}/cancel`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    const job = (await post(JOBS, { action: 'SUSPEND', issuerCardRefIds: ['a'] })).body;
    const bad = await post<ErrorBody>(`${JOBS}/${job.jobId}/cards`, { issuerCardRefIds: 'a' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields!.map((f) => f.path)).toEqual(['issuerCardRefIds']);
    for (const [query, path] of [
      ['?status=DONE', 'query.status'],
      ['?limit=0', 'query.limit'],
      ['?limit=101', 'query.limit'],
      [`?nextToken=${Buffer.from(JSON.stringify({ pk: 'JOB#other', sk: 'CARD#a' })).toString('base64url')}`, 'query.nextToken'],
    ] as const) {
      const res = (await getJson<ErrorBody>(`${JOBS}/${job.jobId}/cards${query}`)) as { status: number; body: ErrorBody };
      expect({ query, status: res.status, paths: res.body.error.fields?.map((f) => f.path) }).toEqual({ query, status: 400, paths: [path] });
    }
    expect((await getJob(job.jobId)).counts.cards).toBe(1);
  });
});

describe('creating a job and adding cards', () => {
  it('202 PENDING with location; ids repeated in a request count once; same key and body → 200 the same job; another body → 422', async () => {
    const { key } = ids('job-idem');
    const body = { action: 'SUSPEND', reason: 'BIN range compromised', issuerCardRefIds: ['c-1', 'c-2', 'c-1'] };
    const res = await post(JOBS, body, { 'idempotency-key': key });
    expect(res.status).toBe(202);
    const job = res.body;
    expect(res.location).toBe(`${JOBS}/${job.jobId}`);
    expect(job).toMatchObject({ action: 'SUSPEND', reason: 'BIN range compromised', status: 'PENDING', startedAt: null, completedAt: null });
    expect(job.counts).toEqual({ cards: 2, started: 0, SUCCEEDED: 0, PARTIALLY_FAILED: 0, FAILED: 0, inFlight: 0 });
    expect(job.createdAt).toMatch(ISO_INSTANT);

    const again = await post(JOBS, { issuerCardRefIds: ['c-1', 'c-2', 'c-1'], reason: 'BIN range compromised', action: 'SUSPEND' }, { 'idempotency-key': key });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ jobId: job.jobId, counts: { cards: 2 } });
    const other = await post<ErrorBody>(JOBS, { ...body, action: 'RESUME' }, { 'idempotency-key': key });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('add cards: a card already in the job counts once; the cards list pages by issuerCardRefId, QUEUED with no operation', async () => {
    const job = (await post(JOBS, { action: 'RESUME', issuerCardRefIds: ['a', 'b', 'c'] })).body;
    const added = await post(`${JOBS}/${job.jobId}/cards`, { issuerCardRefIds: ['c', 'd', 'd', 'e', 'a'] });
    expect(added.status).toBe(200);
    expect(added.body.counts.cards).toBe(5);
    // Large jobs are built by repeated calls: 1 000 more in one request (several transactions).
    const thousand = Array.from({ length: 1000 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
    expect((await post(`${JOBS}/${job.jobId}/cards`, { issuerCardRefIds: thousand })).body.counts.cards).toBe(1005);
    expect((await post(`${JOBS}/${job.jobId}/cards`, { issuerCardRefIds: thousand.slice(0, 150) })).body.counts.cards).toBe(1005);

    const first = await cardsOf(job.jobId, '?limit=2');
    expect(first.body.cards).toEqual([
      { issuerCardRefId: 'a', operationId: null, status: 'QUEUED' },
      { issuerCardRefId: 'b', operationId: null, status: 'QUEUED' },
    ]);
    const second = await cardsOf(job.jobId, `?limit=2&nextToken=${first.body.nextToken}`);
    expect(second.body.cards.map((c) => c.issuerCardRefId)).toEqual(['bulk-0000', 'bulk-0001']);
    const queued = await allCards(job.jobId, 'QUEUED');
    expect(queued).toHaveLength(1005);
    expect(new Set(queued.map((c) => c.issuerCardRefId)).size).toBe(1005);
    expect((await cardsOf(job.jobId, '?status=IN_FLIGHT')).body).toEqual({ cards: [], nextToken: null });
  });
});

describe('running a job', () => {
  it('start → every card one CARD-scope operation (jobId, on the bulk lane), settled by its callbacks; COMPLETED; counts add up throughout', async () => {
    const cards = await d1Cards('run', 12);
    const job = (await post(JOBS, { action: 'SUSPEND', issuerCardRefIds: cards })).body;
    const started = await post(`${JOBS}/${job.jobId}/start`);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ status: 'RUNNING', startedAt: expect.stringMatching(ISO_INSTANT) });
    // Starting a RUNNING job again: the job as it is (a second tick of the chain is dropped by its claim).
    expect((await post(`${JOBS}/${job.jobId}/start`)).status).toBe(202);
    expect((await post<ErrorBody>(`${JOBS}/${job.jobId}/cards`, { issuerCardRefIds: ['late'] })).body.error.code).toBe('JOB_NOT_PENDING');

    const done = await jobWhen(job.jobId, (j) => j.status === 'COMPLETED');
    expect(done).toMatchObject({ status: 'COMPLETED', completedAt: expect.stringMatching(ISO_INSTANT) });
    expect(done.counts).toEqual({ cards: 12, started: 12, SUCCEEDED: 12, PARTIALLY_FAILED: 0, FAILED: 0, inFlight: 0 });

    const listed = await allCards(job.jobId);
    expect(listed.map((c) => c.status)).toEqual(Array(12).fill('SUCCEEDED'));
    expect((await allCards(job.jobId, 'SUCCEEDED')).length).toBe(12);
    const operationIds = listed.map((c) => c.operationId!);
    expect(new Set(operationIds).size).toBe(12);
    for (const card of listed) {
      const op: Operation = await getOperation(card.operationId!);
      expect(op).toMatchObject({
        jobId: job.jobId,
        scope: 'CARD',
        issuerCardRefId: card.issuerCardRefId,
        action: 'SUSPEND',
        status: 'SUCCEEDED',
        requestedBy: null,
      });
    }
    // One updateCardState per card: the job never called D1 twice for a card.
    await d1.quiet();
    const sent = await d1.simRequests('/updateCardState', (r) => cards.includes((r.body as { issuerCardRefId: string }).issuerCardRefId));
    expect(sent).toHaveLength(12);
    expect(new Set(sent.map((r) => r.headers['x-correlation-id'])).size).toBe(12);

    for (const action of ['start', 'cancel']) {
      const res = await post<ErrorBody>(`${JOBS}/${job.jobId}/${action}`);
      expect({ action, status: res.status, code: res.body.error.code }).toEqual({ action, status: 409, code: 'JOB_NOT_PENDING' });
    }
  });

  it('a card D1 rejects settles FAILED; a job counts it and completes', async () => {
    const cards = await d1Cards('reject', 2);
    const job = (await post(JOBS, { action: 'DELETE', issuerCardRefIds: cards })).body;
    await d1.setFaults({ updateCardState: { mode: 'reject400', responseCode: 111, times: 2 } });
    await post(`${JOBS}/${job.jobId}/start`);
    const done = await jobWhen(job.jobId, (j) => j.status === 'COMPLETED');
    expect(done.counts).toEqual({ cards: 2, started: 2, SUCCEEDED: 0, PARTIALLY_FAILED: 0, FAILED: 2, inFlight: 0 });
    for (const card of await allCards(job.jobId, 'FAILED'))
      expect(await getOperation(card.operationId!)).toMatchObject({ status: 'FAILED', failure: { reason: 'D1_REJECTED' } });
  });

  it('cancel: no new card starts, those in flight finish and are counted; cancelling again is 200; a CANCELLED job does not start', async () => {
    const cards = await d1Cards('cancel', 120);
    const job = (await post(JOBS, { action: 'SUSPEND', issuerCardRefIds: cards })).body;
    await post(`${JOBS}/${job.jobId}/start`);
    await jobWhen(job.jobId, (j) => j.counts.started > 0);
    const cancelled = await post(`${JOBS}/${job.jobId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('CANCELLED');
    const closed = await jobWhen(job.jobId, (j) => j.completedAt !== null);
    expect(closed).toMatchObject({ status: 'CANCELLED', completedAt: expect.stringMatching(ISO_INSTANT) });
    expect(closed.counts.inFlight).toBe(0);
    expect(closed.counts.started).toBeLessThan(120);
    expect(closed.counts.SUCCEEDED).toBe(closed.counts.started);
    await d1.quiet();
    const after = await getJob(job.jobId);
    expect(after.counts).toEqual(closed.counts);
    expect(await allCards(job.jobId, 'QUEUED')).toHaveLength(120 - closed.counts.started);

    const again = await post(`${JOBS}/${job.jobId}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'CANCELLED', completedAt: closed.completedAt });
    expect((await post<ErrorBody>(`${JOBS}/${job.jobId}/start`)).body.error.code).toBe('JOB_NOT_PENDING');
  });

  it('a PENDING job cancels at once (completedAt set): nothing ever starts', async () => {
    const job = (await post(JOBS, { action: 'RESUME', issuerCardRefIds: ['p-1'] })).body;
    const cancelled = await post(`${JOBS}/${job.jobId}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'CANCELLED', completedAt: expect.stringMatching(ISO_INSTANT), counts: { cards: 1, started: 0 } });
    expect((await post<ErrorBody>(`${JOBS}/${job.jobId}/cards`, { issuerCardRefIds: ['p-2'] })).status).toBe(409);
  });
});
