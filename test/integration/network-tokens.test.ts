import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbNetworkTokenStore } from '../../lambdas/adapters/dynamodb-network-token-store';
import type { TokenUpdate, TokenUpdateDecision } from '../../lambdas/domain/network-token';
import { processTokenUpdate } from '../../lambdas/use-cases/process-token-update';
import { captureOutput } from '../support/capture';
import { spyOnConsumers } from '../support/consumers';
import type { ErrorBody } from '../support/contract-types';
import { queueDrained } from '../support/queues';
import { networkTokenRoutes } from '../support/routes';
import { merchantJweKeyPem, merchantSimulator, useStackWithSimulator } from '../support/simulator';
import { eventually, TEST_ENV } from '../support/stack';

/**
 * The merchant-side webhook and the network-token read routes end to end (DESIGN §2 rules 10–14, §3
 * `POST /tsh-cof/notify-token-update`, `GET /v1/network-tokens/{tokenId}`): HTTP → gateway → notify-token-update →
 * token-updates (fauxqs) → poller → apply-token-update → DynamoDB Local, read back through the public routes.
 * The only test hook is a pass-through around the real consumer that remembers the message bodies it was handed.
 * The D1 simulator delivers updates as D1 would (its own API key, duplicates, reordering).
 */

const WEBHOOK = '/tsh-cof/notify-token-update';
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const VIEW_KEYS = [
  'cardArt',
  'cardBin',
  'cardExpiryDate',
  'cardLastDigits',
  'lastUpdateTimestamp',
  'merchantId',
  'par',
  'state',
  'tokenExpiryDate',
  'tokenId',
  'tokenLastDigits',
  'tokenPanStored',
  'updatedAt',
];

const privatePem = merchantJweKeyPem();

/** Every token-updates message body the real consumer was handed, in order. */
const consumed: string[] = [];

const { d1, stack } = useStackWithSimulator({
  d1BaseUrlEnv: 'D1_COF_BASE_URL',
  env: { TR_JWE_PRIVATE_KEY: privatePem, D1_TIMEOUT_MS: '500' },
  simulator: merchantSimulator(privatePem),
  loadConsumer: spyOnConsumers((_consumer, body) => consumed.push(body), 'apply-token-update'),
});

// ---------------------------------------------------------------------------------------------------------
// helpers

const newTokenId = (label: string): string => `nt-${label}-${randomUUID().slice(0, 8)}`;

interface PostOptions {
  cid?: string | null;
  authorization?: string | null;
  contentType?: string | null;
  raw?: string;
}

/** One raw webhook call; defaults are what D1 sends. */
async function post(body: unknown, options: PostOptions = {}): Promise<{ status: number; text: string; cid: string | null; headers: Headers }> {
  const cid = options.cid === undefined ? randomUUID() : options.cid;
  const headers: Record<string, string> = {};
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  const authorization = options.authorization === undefined ? `APIKEY ${TEST_ENV.TR_API_KEY}` : options.authorization;
  if (authorization !== null) headers.authorization = authorization;
  if (cid !== null) headers['x-correlation-id'] = cid;
  const res = await fetch(stack.url + WEBHOOK, { method: 'POST', headers, body: options.raw ?? JSON.stringify(body) });
  return { status: res.status, text: await res.text(), cid, headers: res.headers };
}

/** Delivers one update as D1 would and expects 204 with no body. Returns its correlation id. */
async function notify(body: Record<string, unknown>, cid: string = randomUUID()): Promise<string> {
  const res = await post(body, { cid });
  expect(res.status).toBe(204);
  expect(res.text).toBe('');
  return cid;
}

/** Waits until the token-updates queue is empty (visible and in flight) and no poller holds a message. */
const drained = (): Promise<void> => queueDrained(stack, stack.resources.queues.tokenUpdates.url, 15_000);

const consumedWith = (cid: string): string[] => consumed.filter((body) => (JSON.parse(body) as { correlationId?: string }).correlationId === cid);

/** Waits until the consumer has taken every listed update and the queue is empty again. */
async function settled(...cids: string[]): Promise<void> {
  await eventually(async () => (cids.every((cid) => consumedWith(cid).length > 0) ? true : undefined), 15_000);
  await drained();
}

/** Delivers an update and waits until it has been processed. */
async function notifyAndSettle(body: Record<string, unknown>): Promise<string> {
  const cid = await notify(body);
  await settled(cid);
  return cid;
}

const { getJson, getToken, tokenNow, tokenWhen } = networkTokenRoutes(() => stack.url);

async function expectNotFound(tokenId: string): Promise<void> {
  const res = await getJson<ErrorBody>(`/v1/network-tokens/${encodeURIComponent(tokenId)}`);
  expect(res.status).toBe(404);
  expect(res.body.error.code).toBe('NOT_FOUND');
}

/** The raw DynamoDB item of a network token. */
async function storedItem(tokenId: string): Promise<Record<string, unknown> | undefined> {
  const out = await stack.ddb.send(
    new GetCommand({ TableName: process.env.TABLE_NAME!, Key: { pk: `NTOKEN#${tokenId}`, sk: 'NTOKEN' }, ConsistentRead: true }),
  );
  return out.Item;
}

/** A rejected request: nothing reached the queue, nothing was written. */
async function expectNothingWritten(tokenId: string, cid: string | null): Promise<void> {
  await drained();
  if (cid !== null) expect(consumedWith(cid)).toHaveLength(0);
  expect(consumed.some((body) => body.includes(tokenId))).toBe(false);
  await expectNotFound(tokenId);
  expect(await storedItem(tokenId)).toBeUndefined();
}

interface SimSendResult {
  correlationId?: string;
  deliveries: number;
  statuses: (number | null)[];
  order?: { correlationId: string; tokenId: string; lastUpdateTimestamp: string }[];
}

/** `ts(n)`: an ISO instant n seconds after a fixed base, so tests can order updates explicitly. */
const ts = (seconds: number): string => new Date(Date.UTC(2026, 2, 1, 8, 0, 0) + seconds * 1000).toISOString();

function fullUpdate(tokenId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tokenId,
    merchantId: 'merchant-1',
    lastUpdateTimestamp: ts(0),
    tokenState: 'ACTIVE',
    tokenLastDigits: '1234',
    tokenExpiryDate: '1228',
    cardLastDigits: '9876',
    cardExpiryDate: '0927',
    cardBin: '453421',
    par: 'P'.repeat(29),
    cardArt: { background: '#112233', logo: { url: 'https://art.example/logo.png', width: 64 } },
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------------------
// the webhook and the read route

describe('notify-token-update → GET /v1/network-tokens/{tokenId}', () => {
  it('acknowledges 204 with no body, then shows every field with lastUpdateTimestamp as a UTC ms instant and no PAN', async () => {
    const tokenId = newTokenId('full');
    const res = await post(fullUpdate(tokenId, { lastUpdateTimestamp: '2026-03-01T10:00:00+02:00' }));
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers.get('content-type')).toBeNull();

    const t = await tokenWhen(tokenId, () => true);
    expect(Object.keys(t).sort()).toEqual(VIEW_KEYS);
    expect(t).toEqual({
      tokenId,
      merchantId: 'merchant-1',
      state: 'ACTIVE',
      tokenLastDigits: '1234',
      tokenExpiryDate: '1228',
      cardLastDigits: '9876',
      cardExpiryDate: '0927',
      cardBin: '453421',
      par: 'P'.repeat(29),
      cardArt: { background: '#112233', logo: { url: 'https://art.example/logo.png', width: 64 } },
      lastUpdateTimestamp: '2026-03-01T08:00:00.000Z',
      tokenPanStored: false,
      updatedAt: expect.stringMatching(ISO_INSTANT),
    });
    expect(JSON.stringify(t)).not.toMatch(/pan"/i);
  });

  it('a token first seen without tokenState has state null and null for every absent field', async () => {
    const tokenId = newTokenId('nostate');
    await notify({ tokenId, merchantId: 'merchant-2', lastUpdateTimestamp: '2026-03-01T08:00:00.5Z', tokenLastDigits: '0042' });
    const t = await tokenWhen(tokenId, () => true);
    expect(t).toEqual({
      tokenId,
      merchantId: 'merchant-2',
      state: null,
      tokenLastDigits: '0042',
      tokenExpiryDate: null,
      cardLastDigits: null,
      cardExpiryDate: null,
      cardBin: null,
      par: null,
      cardArt: null,
      lastUpdateTimestamp: '2026-03-01T08:00:00.500Z',
      tokenPanStored: false,
      updatedAt: expect.stringMatching(ISO_INSTANT),
    });

    // A later update that carries a state sets it.
    await notifyAndSettle({ tokenId, merchantId: 'merchant-2', lastUpdateTimestamp: '2026-03-01T08:00:01Z', tokenState: 'SUSPENDED' });
    expect(await tokenNow(tokenId)).toMatchObject({ state: 'SUSPENDED', tokenLastDigits: '0042' });
  });

  it('accepts media type parameters and case, and ignores unknown extra fields', async () => {
    const tokenId = newTokenId('extra');
    const res = await post(
      { ...fullUpdate(tokenId), someFutureField: { nested: true }, tokenRequestorId: '40012345678' },
      { contentType: 'Application/JSON; charset=UTF-8' },
    );
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    await settled(res.cid!);
    const t = await tokenNow(tokenId);
    expect(Object.keys(t).sort()).toEqual(VIEW_KEYS);
    expect(t.state).toBe('ACTIVE');
    const item = JSON.stringify(await storedItem(tokenId));
    expect(item).not.toContain('someFutureField');
    expect(item).not.toContain('40012345678');
  });

  it('accepts every field at its upper bound (tokenId 128, digits 5, cardBin 8, par 29, cardArt exactly 8 KiB)', async () => {
    const tokenId = `${newTokenId('max')}-`.padEnd(128, 'z');
    const art = { i: '' };
    art.i = 'a'.repeat(8 * 1024 - Buffer.byteLength(JSON.stringify(art)));
    expect(Buffer.byteLength(JSON.stringify(art))).toBe(8 * 1024);
    await notifyAndSettle(fullUpdate(tokenId, { tokenLastDigits: '12345', cardLastDigits: '00001', cardBin: '12345678', par: 'Z'.repeat(29), cardArt: art }));
    expect(await tokenNow(tokenId)).toMatchObject({
      tokenId,
      tokenLastDigits: '12345',
      cardLastDigits: '00001',
      cardBin: '12345678',
      par: 'Z'.repeat(29),
      cardArt: art,
    });

    // One byte more is a 400.
    const tooBig = { i: `${art.i}a` };
    const res = await post(fullUpdate(newTokenId('max'), { cardArt: tooBig }));
    expect(res.status).toBe(400);
    expect((JSON.parse(res.text) as ErrorBody).error.fields?.map((f) => f.path)).toEqual(['cardArt']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// rule 10: ordering by lastUpdateTimestamp

describe('stale and duplicate updates (rule 10)', () => {
  it('an older update arriving after a newer one is discarded whole', async () => {
    const tokenId = newTokenId('stale');
    await notifyAndSettle({ tokenId, merchantId: 'm', lastUpdateTimestamp: ts(20), tokenState: 'SUSPENDED', cardArt: { v: 2 } });
    const before = await tokenNow(tokenId);
    // Older, and carrying fields the newer one did not: none of them may land.
    await notifyAndSettle({
      tokenId,
      merchantId: 'm',
      lastUpdateTimestamp: ts(10),
      tokenState: 'ACTIVE',
      cardArt: { v: 1 },
      par: 'OLD-PAR',
      cardBin: '411111',
    });
    const after = await tokenNow(tokenId);
    expect(after).toEqual(before);
    expect(after).toMatchObject({ state: 'SUSPENDED', cardArt: { v: 2 }, par: null, cardBin: null, lastUpdateTimestamp: ts(20) });
  });

  it('an update with an equal timestamp is a duplicate even when its fields differ (updatedAt unchanged)', async () => {
    const tokenId = newTokenId('dup');
    await notifyAndSettle({ tokenId, merchantId: 'm', lastUpdateTimestamp: ts(5), tokenState: 'ACTIVE', tokenLastDigits: '1111' });
    const before = await tokenNow(tokenId);
    // The same instant written with an offset is still equal.
    const sameInstant = new Date(Date.parse(ts(5)) + 2 * 3600_000).toISOString().replace('Z', '+02:00');
    await notifyAndSettle({ tokenId, merchantId: 'm', lastUpdateTimestamp: sameInstant, tokenState: 'SUSPENDED', tokenLastDigits: '2222', cardBin: '522222' });
    await notifyAndSettle({ tokenId, merchantId: 'm', lastUpdateTimestamp: ts(5), tokenState: 'DELETED' });
    expect(await tokenNow(tokenId)).toEqual(before);
    expect((await storedItem(tokenId))?.version).toBe(1);
  });

  it('a newer update replaces only the fields it carries; absent fields keep their value', async () => {
    const tokenId = newTokenId('merge');
    await notifyAndSettle(fullUpdate(tokenId, { lastUpdateTimestamp: ts(1) }));
    const before = await tokenNow(tokenId);
    await notifyAndSettle({
      tokenId,
      merchantId: 'merchant-1',
      lastUpdateTimestamp: ts(2),
      tokenState: 'SUSPENDED',
      tokenExpiryDate: '0131',
      cardArt: { v: 'new' },
    });
    const after = await tokenNow(tokenId);
    expect(after).toEqual({
      ...before,
      state: 'SUSPENDED',
      tokenExpiryDate: '0131',
      cardArt: { v: 'new' },
      lastUpdateTimestamp: ts(2),
      updatedAt: expect.stringMatching(ISO_INSTANT),
    });
    // null is "absent" too: it keeps the stored value.
    await notifyAndSettle({ tokenId, merchantId: 'merchant-1', lastUpdateTimestamp: ts(3), par: null, cardBin: null, tokenState: 'ACTIVE' });
    expect(await tokenNow(tokenId)).toMatchObject({ state: 'ACTIVE', par: before.par, cardBin: before.cardBin, lastUpdateTimestamp: ts(3) });
  });

  it('compares at millisecond precision: timestamps that differ only below the millisecond are duplicates', async () => {
    const tokenId = newTokenId('micro');
    await notifyAndSettle({ tokenId, merchantId: 'm', lastUpdateTimestamp: '2026-03-01T08:00:00.123456Z', tokenState: 'ACTIVE', cardArt: { v: 1 } });
    const first = await tokenNow(tokenId);
    expect(first.lastUpdateTimestamp).toBe('2026-03-01T08:00:00.123Z');

    await notifyAndSettle({ tokenId, merchantId: 'm', lastUpdateTimestamp: '2026-03-01T08:00:00.123999Z', tokenState: 'SUSPENDED', cardArt: { v: 2 } });
    expect(await tokenNow(tokenId)).toEqual(first);

    // One millisecond later is newer.
    await notifyAndSettle({ tokenId, merchantId: 'm', lastUpdateTimestamp: '2026-03-01T10:00:00.124+02:00', tokenState: 'SUSPENDED', cardArt: { v: 3 } });
    expect(await tokenNow(tokenId)).toMatchObject({ state: 'SUSPENDED', cardArt: { v: 3 }, lastUpdateTimestamp: '2026-03-01T08:00:00.124Z' });
  });

  it('20 concurrent updates in random order, with duplicates, end on the newest one — never an older one', async () => {
    const tokenId = newTokenId('race');
    // t0 sets every field; cardBin and cardLastDigits are carried by no later update.
    await notifyAndSettle(fullUpdate(tokenId, { lastUpdateTimestamp: ts(0), par: 'PAR-0', cardBin: '400000', cardLastDigits: '5555' }));

    const N = 20;
    const updates = Array.from({ length: N }, (_, k) => {
      const i = k + 1;
      return {
        cid: randomUUID(),
        body: {
          tokenId,
          merchantId: 'merchant-1',
          lastUpdateTimestamp: ts(i),
          tokenState: i % 3 === 0 ? 'SUSPENDED' : 'ACTIVE',
          tokenExpiryDate: `${String((i % 12) + 1).padStart(2, '0')}30`,
          cardArt: { seq: i },
          // Every even update but the newest carries a par: the newest leaves it as it was.
          ...(i % 2 === 0 && i !== N ? { par: `PAR-${i}` } : {}),
        } as Record<string, unknown>,
      };
    });
    const newest = updates[N - 1]!;
    // Duplicates (same correlation id, same body), the newest one included.
    const sends = [...updates, updates[4]!, updates[11]!, newest, newest];
    for (let i = sends.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [sends[i], sends[j]] = [sends[j]!, sends[i]!];
    }

    const observed: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const t = await getToken(tokenId);
        if (t) observed.push(t.lastUpdateTimestamp);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const results = await Promise.all(sends.map((s) => post(s.body, { cid: s.cid })));
    expect(results.map((r) => r.status)).toEqual(sends.map(() => 204));
    await settled(...updates.map((u) => u.cid));
    watching = false;
    await watcher;

    // What the reads saw only ever moved forward.
    const seen = observed.map((iso) => Date.parse(iso));
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]!);

    const final = await tokenNow(tokenId);
    expect(final).toMatchObject({
      tokenId,
      merchantId: 'merchant-1',
      state: newest.body.tokenState,
      tokenExpiryDate: newest.body.tokenExpiryDate,
      cardArt: { seq: N },
      lastUpdateTimestamp: ts(N),
      // Carried by no concurrent update: t0's values.
      cardBin: '400000',
      cardLastDigits: '5555',
      tokenLastDigits: '1234',
      cardExpiryDate: '0927',
      tokenPanStored: false,
    });
    // Not carried by the newest: the value of whichever earlier update last applied (or t0's), never null.
    const candidates = ['PAR-0', ...updates.filter((u) => 'par' in u.body).map((u) => u.body.par as string)];
    expect(candidates).toContain(final.par);
  });
});

describe('the apply use case on the real store, under contention (rule 10)', () => {
  it('20 updates per token applied at once (4 tokens, duplicates included): each token ends on its newest update', async () => {
    const store = new DynamoDbNetworkTokenStore(stack.ddb, process.env.TABLE_NAME!);
    const N = 20;
    const tokenIds = Array.from({ length: 4 }, () => newTokenId('uc-race'));
    const updates: TokenUpdate[] = tokenIds.flatMap((tokenId) =>
      Array.from({ length: N }, (_, k) => ({
        tokenId,
        merchantId: 'merchant-uc',
        lastUpdateTimestamp: Date.parse(ts(k + 1)),
        tokenState: k % 2 === 0 ? ('SUSPENDED' as const) : ('ACTIVE' as const),
        tokenLastDigits: String(1000 + k + 1),
        cardArt: { seq: k + 1 },
        correlationId: randomUUID(),
        receivedAt: new Date().toISOString(),
      })),
    );
    const all = [...updates, ...updates.filter((_, i) => i % 7 === 0)];
    for (let i = all.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [all[i], all[j]] = [all[j]!, all[i]!];
    }
    const settledAll = await Promise.allSettled(all.map((u) => processTokenUpdate({ store }, u)));
    // Losing too many conditional writes in a row throws ("left for redelivery"): redeliver those, as SQS would.
    const decisions: TokenUpdateDecision[] = [];
    for (const [i, r] of settledAll.entries()) {
      if (r.status === 'fulfilled') decisions.push(r.value);
      else {
        expect(String(r.reason)).toMatch(/kept changing/);
        decisions.push(await processTokenUpdate({ store }, all[i]!));
      }
    }
    for (const tokenId of tokenIds) {
      expect(await tokenNow(tokenId)).toMatchObject({
        state: 'ACTIVE',
        tokenLastDigits: String(1000 + N),
        cardArt: { seq: N },
        lastUpdateTimestamp: ts(N),
      });
      const applied = decisions.filter((d, i) => all[i]!.tokenId === tokenId && d.outcome === 'APPLIED').length;
      // Every APPLIED is one conditional write: the version counts them.
      expect((await storedItem(tokenId))?.version).toBe(applied);
    }
  });
});

describe('DELETED is terminal (rule 10)', () => {
  it('a newer update after DELETED changes other fields but never the state', async () => {
    const tokenId = newTokenId('del');
    await notifyAndSettle({ tokenId, merchantId: 'm', lastUpdateTimestamp: ts(1), tokenState: 'ACTIVE', cardArt: { v: 1 } });
    await notifyAndSettle({ tokenId, merchantId: 'm', lastUpdateTimestamp: ts(2), tokenState: 'DELETED' });
    expect(await tokenNow(tokenId)).toMatchObject({ state: 'DELETED', cardArt: { v: 1 } });

    await notifyAndSettle({ tokenId, merchantId: 'm', lastUpdateTimestamp: ts(3), tokenState: 'ACTIVE', cardArt: { v: 3 }, tokenExpiryDate: '0632' });
    expect(await tokenNow(tokenId)).toMatchObject({
      state: 'DELETED',
      cardArt: { v: 3 },
      tokenExpiryDate: '0632',
      lastUpdateTimestamp: ts(3),
    });
    await notifyAndSettle({ tokenId, merchantId: 'm', lastUpdateTimestamp: ts(4), tokenState: 'SUSPENDED' });
    expect((await tokenNow(tokenId)).state).toBe('DELETED');
  });
});

// ---------------------------------------------------------------------------------------------------------
// §3 check order and authentication

describe('authentication and check order (§3)', () => {
  it.each([
    ['no authorization header', null],
    ['a wrong key', 'APIKEY wrong-key'],
    ['the right key with another scheme', `Bearer ${TEST_ENV.TR_API_KEY}`],
    ['APIKEY without a key', 'APIKEY '],
    ['the key with a suffix', `APIKEY ${TEST_ENV.TR_API_KEY}x`],
  ])('%s → 401 UNAUTHORIZED and nothing written', async (_label, authorization) => {
    const tokenId = newTokenId('auth');
    const res = await post(fullUpdate(tokenId), { authorization });
    expect(res.status).toBe(401);
    expect((JSON.parse(res.text) as ErrorBody).error.code).toBe('UNAUTHORIZED');
    await expectNothingWritten(tokenId, res.cid);
  });

  it('401 beats malformed JSON and schema errors', async () => {
    const tokenId = newTokenId('auth-bad');
    const malformed = await post(undefined, { authorization: null, raw: `{"tokenId":"${tokenId}",` });
    expect(malformed.status).toBe(401);
    expect((JSON.parse(malformed.text) as ErrorBody).error.code).toBe('UNAUTHORIZED');
    const invalid = await post({ tokenId, tokenLastDigits: 1234 }, { authorization: 'APIKEY nope', cid: null });
    expect(invalid.status).toBe(401);
    await expectNothingWritten(tokenId, malformed.cid);
  });

  it('415 beats 401', async () => {
    const tokenId = newTokenId('media');
    const res = await post(fullUpdate(tokenId), { authorization: null, contentType: 'text/plain' });
    expect(res.status).toBe(415);
    expect((JSON.parse(res.text) as ErrorBody).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const form = await post(fullUpdate(tokenId), { contentType: 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    const noType = await post(fullUpdate(tokenId), { contentType: null });
    expect(noType.status).toBe(415);
    await expectNothingWritten(tokenId, res.cid);
  });

  it('413 beats everything: body over 64 KiB, wrong media type, no key, not JSON', async () => {
    const tokenId = newTokenId('big');
    const res = await post(undefined, { authorization: null, contentType: 'text/plain', cid: null, raw: `${tokenId} ${'x'.repeat(65 * 1024)}` });
    expect(res.status).toBe(413);
    expect((JSON.parse(res.text) as ErrorBody).error.code).toBe('PAYLOAD_TOO_LARGE');
    // A valid, authenticated JSON update over 64 KiB is 413 too.
    const big = await post(fullUpdate(tokenId, { padding: 'y'.repeat(65 * 1024) }));
    expect(big.status).toBe(413);
    await expectNothingWritten(tokenId, big.cid);
  });

  it('rejections are logged with the failing paths only: no values, no API key', async () => {
    const tokenId = newTokenId('log');
    const secretArt = `ART-SECRET-${randomUUID()}`;
    const wrongKey = `wrong-key-${randomUUID()}`;
    let res400: { status: number } = { status: 0 };
    let res401: { status: number } = { status: 0 };
    const output = await captureOutput(async () => {
      res400 = await post(fullUpdate(tokenId, { cardBin: '98765', par: 'Q'.repeat(30), cardArt: { blob: secretArt.repeat(400) } }));
      res401 = await post(fullUpdate(tokenId), { authorization: `APIKEY ${wrongKey}` });
    });
    expect(res400.status).toBe(400);
    expect(res401.status).toBe(401);
    expect(output).toContain('request rejected');
    expect(output).toContain('cardBin');
    expect(output).toContain('cardArt');
    expect(output).not.toContain('98765');
    expect(output).not.toContain('Q'.repeat(30));
    expect(output).not.toContain(secretArt);
    expect(output).not.toContain(wrongKey);
    expect(output).not.toContain(TEST_ENV.TR_API_KEY);
    await expectNothingWritten(tokenId, null);
  });
});

// ---------------------------------------------------------------------------------------------------------
// rule 13: validation

describe('validation (rule 13): 400 naming the path, nothing written', () => {
  type Case = [label: string, change: (body: Record<string, unknown>) => void, path: string];
  const cases: Case[] = [
    ['missing tokenId', (b) => delete b.tokenId, 'tokenId'],
    ['missing merchantId', (b) => delete b.merchantId, 'merchantId'],
    ['missing lastUpdateTimestamp', (b) => delete b.lastUpdateTimestamp, 'lastUpdateTimestamp'],
    ['lastUpdateTimestamp "yesterday"', (b) => (b.lastUpdateTimestamp = 'yesterday'), 'lastUpdateTimestamp'],
    ['lastUpdateTimestamp with month 13', (b) => (b.lastUpdateTimestamp = '2026-13-01T00:00:00Z'), 'lastUpdateTimestamp'],
    ['lastUpdateTimestamp a date without time', (b) => (b.lastUpdateTimestamp = '2026-03-01'), 'lastUpdateTimestamp'],
    ['lastUpdateTimestamp as epoch number', (b) => (b.lastUpdateTimestamp = 1772352000000), 'lastUpdateTimestamp'],
    ['empty merchantId', (b) => (b.merchantId = ''), 'merchantId'],
    ['tokenId over 128 chars', (b) => (b.tokenId = `${String(b.tokenId)}-${'i'.repeat(128)}`), 'tokenId'],
    ['tokenLastDigits as a number', (b) => (b.tokenLastDigits = 1234), 'tokenLastDigits'],
    ['tokenLastDigits of 6 digits', (b) => (b.tokenLastDigits = '123456'), 'tokenLastDigits'],
    ['tokenLastDigits not digits', (b) => (b.tokenLastDigits = 'abcd'), 'tokenLastDigits'],
    ['cardLastDigits as a number', (b) => (b.cardLastDigits = 9876), 'cardLastDigits'],
    ['cardBin of 5 digits', (b) => (b.cardBin = '12345'), 'cardBin'],
    ['cardBin of 9 digits', (b) => (b.cardBin = '123456789'), 'cardBin'],
    ['cardBin as a number', (b) => (b.cardBin = 453421), 'cardBin'],
    ['tokenExpiryDate with month 13', (b) => (b.tokenExpiryDate = '1328'), 'tokenExpiryDate'],
    ['tokenExpiryDate with month 00', (b) => (b.tokenExpiryDate = '0028'), 'tokenExpiryDate'],
    ['cardExpiryDate as MM/YY', (b) => (b.cardExpiryDate = '09/27'), 'cardExpiryDate'],
    ['par of 30 chars', (b) => (b.par = 'P'.repeat(30)), 'par'],
    ['cardArt over 8 KiB serialised', (b) => (b.cardArt = { image: 'a'.repeat(8 * 1024) }), 'cardArt'],
    ['cardArt as a string', (b) => (b.cardArt = 'https://art.example/x.png'), 'cardArt'],
    ['tokenState in lower case', (b) => (b.tokenState = 'active'), 'tokenState'],
    ['tokenState unknown', (b) => (b.tokenState = 'INACTIVE'), 'tokenState'],
  ];

  it.each(cases.map(([label, change, path]) => ({ label, change, path })))('$label → 400 $path', async ({ change, path }) => {
    const tokenId = newTokenId('val');
    const body = fullUpdate(tokenId);
    change(body);
    const res = await post(body);
    expect(res.status).toBe(400);
    const error = (JSON.parse(res.text) as ErrorBody).error;
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.fields?.map((f) => f.path)).toEqual([path]);
    await expectNothingWritten(tokenId, res.cid);
  });

  it('missing x-correlation-id → 400 headers.x-correlation-id; over 64 chars too', async () => {
    const tokenId = newTokenId('cid');
    const missing = await post(fullUpdate(tokenId), { cid: null });
    expect(missing.status).toBe(400);
    expect((JSON.parse(missing.text) as ErrorBody).error.fields?.map((f) => f.path)).toEqual(['headers.x-correlation-id']);
    const long = await post(fullUpdate(tokenId), { cid: 'c'.repeat(65) });
    expect(long.status).toBe(400);
    expect((JSON.parse(long.text) as ErrorBody).error.fields?.map((f) => f.path)).toEqual(['headers.x-correlation-id']);
    await expectNothingWritten(tokenId, long.cid);
  });

  it('malformed or non-object JSON → 400 with path ""', async () => {
    const tokenId = newTokenId('json');
    for (const raw of [`{"tokenId":"${tokenId}"`, `["${tokenId}"]`, '"just a string"', 'null', '42']) {
      const res = await post(undefined, { raw });
      expect(res.status).toBe(400);
      const error = (JSON.parse(res.text) as ErrorBody).error;
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.fields).toEqual([{ path: '', message: expect.any(String) }]);
    }
    const empty = await post(undefined, { raw: '' });
    expect(empty.status).toBe(400);
    await expectNothingWritten(tokenId, null);
  });

  it('names every failing field at once, headers included', async () => {
    const tokenId = newTokenId('many');
    const body = fullUpdate(tokenId, { cardBin: '12', tokenState: 'active' });
    delete body.merchantId;
    const res = await post(body, { cid: null });
    expect(res.status).toBe(400);
    const paths = (JSON.parse(res.text) as ErrorBody).error.fields?.map((f) => f.path).sort();
    expect(paths).toEqual(['cardBin', 'headers.x-correlation-id', 'merchantId', 'tokenState']);
    await expectNothingWritten(tokenId, null);
  });
});

// ---------------------------------------------------------------------------------------------------------
// deliveries from the D1 simulator

describe('token updates delivered by the D1 simulator', () => {
  it('?wait=true reports 204 and the update lands', async () => {
    const tokenId = newTokenId('sim');
    const sent = await d1.simCall<SimSendResult>('POST', '/_sim/token-updates?wait=true', {
      tokenId,
      merchantId: 'merchant-sim',
      changes: { tokenState: 'ACTIVE', tokenLastDigits: '4321', tokenExpiryDate: '1129', cardBin: '45342100' },
    });
    expect(sent.statuses).toEqual([204]);
    const t = await tokenWhen(tokenId, () => true);
    expect(t).toMatchObject({
      tokenId,
      merchantId: 'merchant-sim',
      state: 'ACTIVE',
      tokenLastDigits: '4321',
      tokenExpiryDate: '1129',
      cardBin: '45342100',
      tokenPanStored: false,
    });
    expect(t.lastUpdateTimestamp).toMatch(ISO_INSTANT);
  });

  it.each([
    ['wrong', 401],
    ['missing', 401],
  ])('delivery with apiKey %s → [%d] and nothing written', async (apiKey, status) => {
    const tokenId = newTokenId('simkey');
    const sent = await d1.simCall<SimSendResult>('POST', '/_sim/token-updates?wait=true', {
      tokenId,
      merchantId: 'merchant-sim',
      changes: { tokenState: 'ACTIVE' },
      delivery: { apiKey },
    });
    expect(sent.statuses).toEqual([status]);
    await expectNothingWritten(tokenId, sent.correlationId ?? null);
  });

  it('an update delivered three times (two duplicates) is acknowledged three times and applied once', async () => {
    const tokenId = newTokenId('simdup');
    const sent = await d1.simCall<SimSendResult>('POST', '/_sim/token-updates?wait=true', {
      tokenId,
      merchantId: 'merchant-sim',
      changes: { tokenState: 'SUSPENDED', cardArt: { v: 'dup' } },
      delivery: { duplicate: 2 },
    });
    expect(sent.statuses).toEqual([204, 204, 204]);
    const cid = sent.correlationId!;
    await eventually(async () => (consumedWith(cid).length === 3 ? true : undefined), 15_000);
    await drained();
    const t = await tokenNow(tokenId);
    expect(t).toMatchObject({ state: 'SUSPENDED', cardArt: { v: 'dup' } });
    // One write: the first copy applied, the others were duplicates (no second version, updatedAt of one copy).
    expect((await storedItem(tokenId))?.version).toBe(1);
    const receivedAts = consumedWith(cid).map((body) => (JSON.parse(body) as { receivedAt: string }).receivedAt);
    expect(receivedAts).toContain(t.updatedAt);
  });

  it('concurrent duplicate deliveries are applied once', async () => {
    const tokenId = newTokenId('simconc');
    const sent = await d1.simCall<SimSendResult>('POST', '/_sim/token-updates?wait=true', {
      tokenId,
      merchantId: 'merchant-sim',
      changes: { tokenState: 'ACTIVE', par: 'PAR-CONCURRENT' },
      delivery: { duplicate: 4, concurrent: true },
    });
    expect(sent.statuses).toEqual([204, 204, 204, 204, 204]);
    await eventually(async () => (consumedWith(sent.correlationId!).length === 5 ? true : undefined), 15_000);
    await drained();
    expect(await tokenNow(tokenId)).toMatchObject({ state: 'ACTIVE', par: 'PAR-CONCURRENT' });
    expect((await storedItem(tokenId))?.version).toBe(1);
  });

  it('a batch delivered in reverse order (t1 SUSPENDED, t2 ACTIVE) ends ACTIVE at t2', async () => {
    const tokenId = newTokenId('simrev');
    const sent = await d1.simCall<SimSendResult>('POST', '/_sim/token-updates/batch?wait=true', {
      order: 'reverse',
      updates: [
        { tokenId, merchantId: 'merchant-sim', changes: { tokenState: 'SUSPENDED', cardArt: { v: 1 } } },
        { tokenId, changes: { tokenState: 'ACTIVE' } },
      ],
    });
    expect(sent.statuses).toEqual([204, 204]);
    const [t2, t1] = sent.order!;
    expect(Date.parse(t2!.lastUpdateTimestamp)).toBeGreaterThan(Date.parse(t1!.lastUpdateTimestamp));
    await settled(t1!.correlationId, t2!.correlationId);
    const t = await tokenNow(tokenId);
    // t1 arrived after t2 and was stale: discarded whole, its cardArt included.
    expect(t).toMatchObject({ state: 'ACTIVE', cardArt: null, lastUpdateTimestamp: new Date(t2!.lastUpdateTimestamp).toISOString() });
  });
});

// ---------------------------------------------------------------------------------------------------------
// read routes

describe('read routes', () => {
  it('GET an unknown token → 404 NOT_FOUND; token-pan of an unknown token → 404', async () => {
    const tokenId = newTokenId('unknown');
    await expectNotFound(tokenId);
    const pan = await getJson<ErrorBody>(`/v1/network-tokens/${tokenId}/token-pan`);
    expect(pan.status).toBe(404);
    expect(pan.body.error.code).toBe('NOT_FOUND');
  });

  it('GET token-pan of a known token with no PAN stored → 404', async () => {
    const tokenId = newTokenId('nopan');
    await notifyAndSettle(fullUpdate(tokenId));
    expect((await tokenNow(tokenId)).tokenPanStored).toBe(false);
    const pan = await getJson<ErrorBody>(`/v1/network-tokens/${tokenId}/token-pan`);
    expect(pan.status).toBe(404);
    expect(pan.body.error.code).toBe('NOT_FOUND');
  });

  it('a token id longer than the schema allows is 404, not 400', async () => {
    const res = await getJson<ErrorBody>(`/v1/network-tokens/${'x'.repeat(129)}`);
    expect(res.status).toBe(404);
  });
});
