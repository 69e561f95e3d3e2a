import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import { startD1Simulator, tokenPan, type D1Simulator } from '../../local/d1-simulator';

/** Merchant (token-requestor) side of the D1 simulator: Create Transaction (COF) and token-update notifications. */

const TR_API_KEY = 'tr-key-3f9c1d';
const COF_API_KEY = 'cof-key-8a7b6e';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}
let received: Received[] = [];
let reply: (n: number) => number = () => 204;
let receiver: Server;
let receiverUrl: string;
let sim: D1Simulator;
const logLines: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) as Record<string, unknown> });
      const status = reply(received.length);
      if (status === 204) res.writeHead(204).end();
      else res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  sim = await startD1Simulator({
    port: 0,
    issuerId: 'ISSUER0001',
    serviceBaseUrl: receiverUrl,
    callbackRetryDelayMs: 10,
    trApiKey: TR_API_KEY,
    cofApiKey: COF_API_KEY,
    trJwePublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    log: (line) => logLines.push(line),
  });
});

afterAll(async () => {
  await sim.stop();
  receiver.closeAllConnections();
  await new Promise((resolve) => receiver.close(resolve));
});

beforeEach(() => {
  sim.reset();
  received = [];
  reply = () => 204;
});

type JsonBody = Record<string, any>;

async function call(path: string, body?: unknown, headers: Record<string, string> = {}, method = 'POST', base = sim.url) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as JsonBody };
}

const cofHeaders = (correlationId = 'corr-tx', key = COF_API_KEY) => ({ authorization: `APIKEY ${key}`, 'x-correlation-id': correlationId });
const createTransaction = (tokenId: string, correlationId?: string, path = '/transactions') =>
  call(path, { tokenId, transactionType: 'SINGLE' }, cofHeaders(correlationId));
const seedToken = async (body: JsonBody) => {
  const res = await call('/_sim/network-tokens', { merchantId: 'm-1', ...body });
  expect(res.status).toBe(201);
  return res.body;
};

interface Credentials {
  tokenPan: string;
  tokenExpiryDate: string;
  cryptogram: string;
}
async function open(encryptedData: string, key: KeyObject = privateKey) {
  const { plaintext, protectedHeader } = await jose.compactDecrypt(encryptedData, key);
  return { protectedHeader, credentials: JSON.parse(new TextDecoder().decode(plaintext)) as Credentials };
}
async function panOf(tokenId: string): Promise<string> {
  const res = await createTransaction(tokenId);
  expect(res.status).toBe(201);
  return (await open(res.body.encryptedData as string)).credentials.tokenPan;
}

/** Independent Luhn check (not the simulator's). */
function luhn(pan: string): boolean {
  const sum = [...pan]
    .reverse()
    .map(Number)
    .reduce((acc, d, i) => acc + (i % 2 ? ((d * 2) % 10) + Math.floor(d / 5) : d), 0);
  return sum % 10 === 0;
}

describe('Create Transaction (POST /transactions)', () => {
  it('401 UNAUTHORIZED without or with a wrong APIKEY; the log shows neither key', async () => {
    await seedToken({ tokenId: 't-1' });
    const none = await call('/transactions', { tokenId: 't-1', transactionType: 'SINGLE' }, { 'x-correlation-id': 'c-1' });
    expect(none).toEqual({ status: 401, body: { errorCode: 'UNAUTHORIZED', errorMessage: expect.any(String) } });
    const wrong = await call('/transactions', { tokenId: 't-1', transactionType: 'SINGLE' }, cofHeaders('c-2', 'not-the-key'));
    expect(wrong.status).toBe(401);
    expect(wrong.body.errorCode).toBe('UNAUTHORIZED');
    const bearer = await call(
      '/transactions',
      { tokenId: 't-1', transactionType: 'SINGLE' },
      { authorization: `Bearer ${COF_API_KEY}`, 'x-correlation-id': 'c-3' },
    );
    expect(bearer.status).toBe(401);

    const { requests } = (await call('/_sim/requests', undefined, {}, 'GET')).body;
    expect(requests.map((r: JsonBody) => [r.status, r.headers])).toEqual([
      [401, { 'x-correlation-id': 'c-1', authorization: null }],
      [401, { 'x-correlation-id': 'c-2', authorization: 'APIKEY ***' }],
      [401, { 'x-correlation-id': 'c-3', authorization: '***' }],
    ]);
    expect(JSON.stringify(requests)).not.toContain('not-the-key');
  });

  it('400 for a bad body or correlation id, 404 for an unknown token, 400 TOKEN_DELETED for a deleted one', async () => {
    await seedToken({ tokenId: 't-1' });
    const bad = [
      [{ transactionType: 'SINGLE' }, cofHeaders()],
      [{ tokenId: 'has space', transactionType: 'SINGLE' }, cofHeaders()],
      [{ tokenId: 'x'.repeat(129), transactionType: 'SINGLE' }, cofHeaders()],
      [{ tokenId: 't-1' }, cofHeaders()],
      [{ tokenId: 't-1', transactionType: 'S'.repeat(65) }, cofHeaders()],
      [{ tokenId: 't-1', transactionType: 'SINGLE' }, { authorization: `APIKEY ${COF_API_KEY}` }],
      [{ tokenId: 't-1', transactionType: 'SINGLE' }, cofHeaders('c'.repeat(65))],
    ] as const;
    for (const [body, headers] of bad) {
      const res = await call('/transactions', body, headers);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errorCode: expect.any(String), errorMessage: expect.any(String) });
    }
    expect(await createTransaction('t-unknown')).toEqual({ status: 404, body: { errorCode: 'TOKEN_NOT_FOUND', errorMessage: expect.any(String) } });
    await call('/_sim/network-tokens', { tokenId: 't-1', tokenState: 'DELETED' });
    expect(await createTransaction('t-1')).toEqual({ status: 400, body: { errorCode: 'TOKEN_DELETED', errorMessage: expect.any(String) } });
  });

  it('201 with a JWE (RSA-OAEP-256 / A256GCM, kid tr-key-1) holding a Luhn-valid 16-digit token PAN ending in tokenLastDigits', async () => {
    await seedToken({ tokenId: 't-1', tokenLastDigits: '4242', tokenExpiryDate: '1229' });
    const before = Date.now();
    for (const path of ['/transactions', '/tsh-cof/transactions']) {
      const res = await createTransaction('t-1', 'corr-201', path);
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        transactionId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        encryptedData: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+\.[\w-]+$/),
        eci: '05',
        cryptogramExpiryDate: expect.any(String),
      });
      const expiresIn = Date.parse(res.body.cryptogramExpiryDate as string) - before;
      expect(expiresIn).toBeGreaterThanOrEqual(10 * 60_000 - 1000);
      expect(expiresIn).toBeLessThanOrEqual(10 * 60_000 + 5000);

      const { protectedHeader, credentials } = await open(res.body.encryptedData as string);
      expect(protectedHeader).toEqual({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'tr-key-1' });
      expect(credentials).toEqual({ tokenPan: expect.stringMatching(/^[0-9]{16}$/), tokenExpiryDate: '1229', cryptogram: expect.any(String) });
      expect(luhn(credentials.tokenPan)).toBe(true);
      expect(credentials.tokenPan.endsWith('4242')).toBe(true);
      expect(credentials.cryptogram).toMatch(/^[A-Za-z0-9+/]{28}$/);
    }
    // Only our key opens it.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await expect(open((await createTransaction('t-1')).body.encryptedData as string, other)).rejects.toThrow();
  });

  it('a token seeded without tokenLastDigits gets 4 derived from its PAN, and defaults ACTIVE with an expiry', async () => {
    const seeded = await seedToken({ tokenId: 't-2' });
    expect(seeded).toEqual(
      expect.objectContaining({
        tokenId: 't-2',
        merchantId: 'm-1',
        tokenState: 'ACTIVE',
        tokenLastDigits: expect.stringMatching(/^[0-9]{4}$/),
        tokenExpiryDate: expect.stringMatching(/^(0[1-9]|1[0-2])[0-9]{2}$/),
        panGeneration: 0,
      }),
    );
    expect(seeded).not.toHaveProperty('tokenPan');
    const pan = await panOf('t-2');
    expect(pan.endsWith(seeded.tokenLastDigits as string)).toBe(true);
    expect(luhn(pan)).toBe(true);
    expect((await call('/_sim/network-tokens/t-2', undefined, {}, 'GET')).body).toEqual(seeded);
    expect((await call('/_sim/network-tokens/t-none', undefined, {}, 'GET')).status).toBe(404);
  });

  it('the same PAN until a token update changes tokenLastDigits; then a new PAN ending in the new digits', async () => {
    await seedToken({ tokenId: 't-1', tokenLastDigits: '1111' });
    const first = await panOf('t-1');
    expect(await panOf('t-1')).toBe(first);

    // An update that leaves tokenLastDigits alone keeps the PAN.
    await call('/_sim/token-updates?wait=true', { tokenId: 't-1', changes: { tokenExpiryDate: '0131' } });
    expect(await panOf('t-1')).toBe(first);

    const res = await call('/_sim/token-updates?wait=true', { tokenId: 't-1', changes: { tokenLastDigits: '98765' } });
    expect(res.body.statuses).toEqual([204]);
    const second = await panOf('t-1');
    expect(second).not.toBe(first);
    expect(second.endsWith('98765')).toBe(true);
    expect(luhn(second)).toBe(true);
    expect((await call('/_sim/network-tokens/t-1', undefined, {}, 'GET')).body).toMatchObject({
      tokenLastDigits: '98765',
      tokenExpiryDate: '0131',
      panGeneration: 1,
    });
    const { credentials } = await open((await createTransaction('t-1')).body.encryptedData as string);
    expect(credentials.tokenExpiryDate).toBe('0131');
  });

  it('tokenPan is Luhn-valid and keeps any 1–5 last digits', () => {
    for (let g = 0; g < 50; g++) {
      for (const last of [undefined, '0', '12', '999', '0000', '54321']) {
        const pan = tokenPan(`tok-${g}`, g, last);
        expect(pan).toMatch(/^4[0-9]{15}$/);
        expect(luhn(pan)).toBe(true);
        if (last) expect(pan.endsWith(last)).toBe(true);
      }
      expect(tokenPan(`tok-${g}`, g, tokenPan(`tok-${g}`, g).slice(-4))).toBe(tokenPan(`tok-${g}`, g));
    }
  });
});

describe('Create Transaction faults', () => {
  it('http500 with times:1 fails once, then succeeds', async () => {
    await seedToken({ tokenId: 't-1' });
    const set = await call('/_sim/faults', { transactions: { mode: 'http500', times: 1 } });
    expect(set.body.transactions).toEqual({ mode: 'http500', times: 1 });
    expect(await createTransaction('t-1', 'corr-r')).toEqual({ status: 500, body: { errorCode: 'INTERNAL_ERROR', errorMessage: expect.any(String) } });
    expect((await createTransaction('t-1', 'corr-r')).status).toBe(201);
    const { requests } = (await call('/_sim/requests', undefined, {}, 'GET')).body;
    expect(requests.map((r: JsonBody) => [r.path, r.status, r.headers['x-correlation-id'], r.body])).toEqual([
      ['/transactions', 500, 'corr-r', { tokenId: 't-1', transactionType: 'SINGLE' }],
      ['/transactions', 201, 'corr-r', { tokenId: 't-1', transactionType: 'SINGLE' }],
    ]);
  });

  it.each([
    ['http400', 400],
    ['http404', 404],
    ['http503', 503],
  ] as const)('%s answers %i until cleared', async (mode, status) => {
    await seedToken({ tokenId: 't-1' });
    await call('/_sim/faults', { transactions: { mode } });
    expect((await createTransaction('t-1')).status).toBe(status);
    expect((await createTransaction('t-1')).status).toBe(status);
    await call('/_sim/faults', undefined, {}, 'DELETE');
    expect((await createTransaction('t-1')).status).toBe(201);
  });

  it('badJwe: 201 with the usual header, but encryptedData does not decrypt', async () => {
    await seedToken({ tokenId: 't-1' });
    await call('/_sim/faults', { transactions: { mode: 'badJwe', times: 1 } });
    const res = await createTransaction('t-1');
    expect(res.status).toBe(201);
    expect(jose.decodeProtectedHeader(res.body.encryptedData as string)).toEqual({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'tr-key-1' });
    await expect(open(res.body.encryptedData as string)).rejects.toThrow();
    await expect(open((await createTransaction('t-1')).body.encryptedData as string)).resolves.toBeDefined();
    expect((await call('/_sim/faults', { transactions: { mode: 'nope' } })).status).toBe(400);
  });

  it('timeout holds the request until the client gives up, and stop() still returns promptly', async () => {
    const own = await startD1Simulator({
      port: 0,
      issuerId: 'ISSUER0001',
      serviceBaseUrl: 'http://127.0.0.1:9',
      cofApiKey: COF_API_KEY,
      trJwePublicKey: publicKey,
    });
    await call('/_sim/network-tokens', { tokenId: 't-1', merchantId: 'm-1' }, {}, 'POST', own.url);
    await call('/_sim/faults', { transactions: { mode: 'timeout' } }, {}, 'POST', own.url);
    const post = (signal?: AbortSignal) =>
      fetch(`${own.url}/transactions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...cofHeaders('corr-t') },
        body: JSON.stringify({ tokenId: 't-1', transactionType: 'SINGLE' }),
        ...(signal ? { signal } : {}),
      });

    const started = Date.now();
    await expect(post(AbortSignal.timeout(150))).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const { requests } = (await call('/_sim/requests', undefined, {}, 'GET', own.url)).body;
    expect(requests).toEqual([expect.objectContaining({ path: '/transactions', status: null })]);

    const held = post();
    held.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stopping = Date.now();
    await own.stop();
    expect(Date.now() - stopping).toBeLessThan(1000);
    await expect(held).rejects.toThrow();
  });

  it('without trJwePublicKey Create Transaction answers 500 with a clear message', async () => {
    const own = await startD1Simulator({ port: 0, issuerId: 'ISSUER0001', serviceBaseUrl: 'http://127.0.0.1:9', cofApiKey: COF_API_KEY });
    try {
      await call('/_sim/network-tokens', { tokenId: 't-1', merchantId: 'm-1' }, {}, 'POST', own.url);
      const res = await call('/transactions', { tokenId: 't-1', transactionType: 'SINGLE' }, cofHeaders(), 'POST', own.url);
      expect(res).toEqual({ status: 500, body: { errorCode: 'INTERNAL_ERROR', errorMessage: expect.stringContaining('trJwePublicKey') } });
    } finally {
      await own.stop();
    }
  });

  it('accepts a PKCS#8 private key PEM with \\n-escaped newlines (the public half is used)', async () => {
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().replace(/\n/g, '\\n');
    const own = await startD1Simulator({ port: 0, issuerId: 'ISSUER0001', serviceBaseUrl: 'http://127.0.0.1:9', cofApiKey: COF_API_KEY, trJwePublicKey: pem });
    try {
      await call('/_sim/network-tokens', { tokenId: 't-1', merchantId: 'm-1' }, {}, 'POST', own.url);
      const res = await call('/transactions', { tokenId: 't-1', transactionType: 'SINGLE' }, cofHeaders(), 'POST', own.url);
      await expect(open(res.body.encryptedData as string)).resolves.toBeDefined();
    } finally {
      await own.stop();
    }
  });
});

describe('/_sim/token-updates', () => {
  it('delivers POST /tsh-cof/notify-token-update with the APIKEY header and the changed fields', async () => {
    await seedToken({ tokenId: 't-1', tokenLastDigits: '1111' });
    const cardArt = { background: 'https://example.test/art.png' };
    const res = await call('/_sim/token-updates', {
      tokenId: 't-1',
      correlationId: 'upd-1',
      lastUpdateTimestamp: '2026-03-01T10:00:00.000Z',
      changes: {
        tokenState: 'SUSPENDED',
        tokenLastDigits: '2222',
        tokenExpiryDate: '0930',
        cardLastDigits: '9876',
        cardExpiryDate: '0928',
        cardBin: '453421',
        par: 'V0010013018036776765435456789',
        cardArt,
      },
    });
    expect(res).toEqual({ status: 202, body: { correlationId: 'upd-1', deliveries: 1 } });
    await sim.idle();
    expect(received).toHaveLength(1);
    expect(received[0]!.path).toBe('/tsh-cof/notify-token-update');
    expect(received[0]!.headers).toMatchObject({ 'content-type': 'application/json', authorization: `APIKEY ${TR_API_KEY}`, 'x-correlation-id': 'upd-1' });
    expect(received[0]!.headers).not.toHaveProperty('x-issuer-id');
    expect(received[0]!.body).toEqual({
      tokenId: 't-1',
      merchantId: 'm-1',
      lastUpdateTimestamp: '2026-03-01T10:00:00.000Z',
      tokenState: 'SUSPENDED',
      tokenLastDigits: '2222',
      tokenExpiryDate: '0930',
      cardLastDigits: '9876',
      cardExpiryDate: '0928',
      cardBin: '453421',
      par: 'V0010013018036776765435456789',
      cardArt,
    });
    expect((await call('/_sim/network-tokens/t-1', undefined, {}, 'GET')).body).toMatchObject({ tokenState: 'SUSPENDED', tokenLastDigits: '2222', cardArt });
    // The model is D1's truth: a suspended token gets no credentials.
    expect((await createTransaction('t-1')).body.errorCode).toBe('TOKEN_SUSPENDED');

    const { deliveries } = (await call('/_sim/deliveries', undefined, {}, 'GET')).body;
    expect(deliveries).toEqual([
      {
        kind: 'token-update',
        correlationId: 'upd-1',
        tokenId: 't-1',
        merchantId: 'm-1',
        lastUpdateTimestamp: '2026-03-01T10:00:00.000Z',
        tokenState: 'SUSPENDED',
        fields: ['tokenState', 'tokenLastDigits', 'tokenExpiryDate', 'cardLastDigits', 'cardExpiryDate', 'cardBin', 'par', 'cardArt'],
        status: 204,
        attempts: 1,
        at: expect.any(String),
      },
    ]);
  });

  it('an unknown token with a merchantId is created; default timestamps are ISO with ms and strictly increasing', async () => {
    const a = await call('/_sim/token-updates?wait=true', { tokenId: 't-new', merchantId: 'm-9', changes: { tokenState: 'ACTIVE' } });
    const b = await call('/_sim/token-updates?wait=true', { tokenId: 't-new', changes: {} });
    expect(a.body).toEqual({ correlationId: expect.any(String), deliveries: 1, statuses: [204] });
    expect(b.status).toBe(200);
    const [t1, t2] = received.map((r) => r.body.lastUpdateTimestamp as string);
    expect(t1).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(t2!)).toBeGreaterThan(Date.parse(t1!));
    expect(received[1]!.body).toEqual({ tokenId: 't-new', merchantId: 'm-9', lastUpdateTimestamp: t2 });
    expect((await call('/_sim/network-tokens/t-new', undefined, {}, 'GET')).body.merchantId).toBe('m-9');
  });

  it('rejects bad items without delivering anything', async () => {
    await seedToken({ tokenId: 't-1' });
    for (const body of [
      { tokenId: 't-unknown', changes: {} },
      { tokenId: 'bad id', merchantId: 'm-1' },
      { tokenId: 't-1', changes: { tokenLastDigits: 1234 } },
      { tokenId: 't-1', changes: { tokenExpiryDate: '1330' } },
      { tokenId: 't-1', changes: { colour: 'red' } },
      { tokenId: 't-1', delivery: { duplicate: -1 } },
    ]) {
      const res = await call('/_sim/token-updates', body);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }
    await sim.idle();
    expect(received).toHaveLength(0);
  });

  it('duplicate: N+1 identical deliveries', async () => {
    await seedToken({ tokenId: 't-1' });
    const res = await call('/_sim/token-updates?wait=true', {
      tokenId: 't-1',
      correlationId: 'dup-1',
      changes: { tokenState: 'DELETED' },
      delivery: { duplicate: 2 },
    });
    expect(res).toEqual({ status: 200, body: { correlationId: 'dup-1', deliveries: 3, statuses: [204, 204, 204] } });
    expect(received).toHaveLength(3);
    expect(new Set(received.map((r) => JSON.stringify([r.headers['x-correlation-id'], r.body]))).size).toBe(1);
    const concurrent = await call('/_sim/token-updates?wait=true', { tokenId: 't-1', changes: {}, delivery: { duplicate: 3, concurrent: true } });
    expect(concurrent.body.statuses).toEqual([204, 204, 204, 204]);
  });

  it('retries 5xx and 429, not 401; wrong/missing API key deliveries are marked', async () => {
    await seedToken({ tokenId: 't-1' });
    reply = (n) => (n === 1 ? 503 : n === 2 ? 429 : 204);
    await call('/_sim/token-updates', { tokenId: 't-1', correlationId: 'r-1' });
    await sim.idle();
    expect(received).toHaveLength(3);

    received = [];
    reply = (n) => (n === 1 ? 401 : 204);
    await call('/_sim/token-updates?wait=true', { tokenId: 't-1', correlationId: 'r-2', delivery: { apiKey: 'wrong' } });
    await call('/_sim/token-updates?wait=true', { tokenId: 't-1', correlationId: 'r-3', delivery: { apiKey: 'missing' } });
    expect(received).toHaveLength(2);
    expect(received[0]!.headers.authorization).toMatch(/^APIKEY /);
    expect(received[0]!.headers.authorization).not.toBe(`APIKEY ${TR_API_KEY}`);
    expect(received[1]!.headers).not.toHaveProperty('authorization');
    const { deliveries } = (await call('/_sim/deliveries', undefined, {}, 'GET')).body;
    expect(deliveries.map((d: JsonBody) => [d.correlationId, d.status, d.attempts, d.apiKey])).toEqual([
      ['r-1', 204, 3, undefined],
      ['r-2', 401, 1, 'wrong'],
      ['r-3', 204, 1, 'missing'],
    ]);
  });

  it('batch reverse: t1 < t2 are delivered t2 first; the model follows the given order', async () => {
    await seedToken({ tokenId: 't-1', tokenLastDigits: '1111' });
    const res = await call('/_sim/token-updates/batch?wait=true', {
      order: 'reverse',
      updates: [
        {
          tokenId: 't-1',
          correlationId: 'b-1',
          lastUpdateTimestamp: '2026-03-01T10:00:00.000Z',
          changes: { tokenState: 'SUSPENDED', tokenLastDigits: '2222' },
        },
        { tokenId: 't-1', correlationId: 'b-2', lastUpdateTimestamp: '2026-03-01T10:00:01.000Z', changes: { tokenState: 'ACTIVE', tokenLastDigits: '3333' } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      order: [
        { correlationId: 'b-2', tokenId: 't-1', lastUpdateTimestamp: '2026-03-01T10:00:01.000Z' },
        { correlationId: 'b-1', tokenId: 't-1', lastUpdateTimestamp: '2026-03-01T10:00:00.000Z' },
      ],
      deliveries: 2,
      statuses: [204, 204],
    });
    expect(received.map((r) => [r.headers['x-correlation-id'], r.body.tokenState])).toEqual([
      ['b-2', 'ACTIVE'],
      ['b-1', 'SUSPENDED'],
    ]);
    expect((await call('/_sim/network-tokens/t-1', undefined, {}, 'GET')).body).toMatchObject({
      tokenState: 'ACTIVE',
      tokenLastDigits: '3333',
      panGeneration: 2,
    });
    expect((await panOf('t-1')).endsWith('3333')).toBe(true);
  });

  it('batch: default timestamps follow the given order; a token created in the batch needs its merchantId once', async () => {
    const res = await call('/_sim/token-updates/batch', {
      order: 'reverse',
      updates: [
        { tokenId: 't-b', merchantId: 'm-2', changes: { tokenState: 'ACTIVE' } },
        { tokenId: 't-b', changes: { tokenState: 'DELETED' } },
      ],
    });
    expect(res.status).toBe(202);
    await sim.idle();
    const [late, early] = received.map((r) => r.body);
    expect([late!.tokenState, early!.tokenState]).toEqual(['DELETED', 'ACTIVE']);
    expect(Date.parse(late!.lastUpdateTimestamp as string)).toBeGreaterThan(Date.parse(early!.lastUpdateTimestamp as string));
    expect(late!.merchantId).toBe('m-2');
    expect((await call('/_sim/token-updates/batch', { order: 'sideways', updates: [] })).status).toBe(400);
  });

  it('stop() cancels delayed token updates', async () => {
    const own = await startD1Simulator({ port: 0, issuerId: 'ISSUER0001', serviceBaseUrl: receiverUrl, trApiKey: TR_API_KEY });
    await call('/_sim/token-updates', { tokenId: 't-1', merchantId: 'm-1', delivery: { delayMs: 60_000 } }, {}, 'POST', own.url);
    const stopping = Date.now();
    await own.stop();
    expect(Date.now() - stopping).toBeLessThan(1000);
    expect(received).toHaveLength(0);
  });
});

describe('secrets stay out of the logs', () => {
  it('no token PAN and no API key in /_sim/requests, /_sim/deliveries, /_sim/network-tokens or the log lines', async () => {
    logLines.length = 0;
    await seedToken({ tokenId: 't-1', tokenLastDigits: '4242' });
    const pans = [await panOf('t-1')];
    await call('/_sim/token-updates?wait=true', { tokenId: 't-1', changes: { tokenLastDigits: '5353' } });
    pans.push(await panOf('t-1'));
    await call('/transactions', { tokenId: 't-1', transactionType: 'SINGLE' }, cofHeaders('c-x', 'wrong-cof-key'));
    await call('/_sim/token-updates?wait=true', { tokenId: 't-1', delivery: { apiKey: 'wrong' } });

    const dumps = [
      (await call('/_sim/requests', undefined, {}, 'GET')).body,
      (await call('/_sim/deliveries', undefined, {}, 'GET')).body,
      (await call('/_sim/network-tokens', undefined, {}, 'GET')).body,
      (await call('/_sim/faults', undefined, {}, 'GET')).body,
      logLines,
    ].map((d) => JSON.stringify(d));
    expect(dumps[0]).toContain('APIKEY ***');
    for (const dump of dumps) {
      for (const secret of [...pans, TR_API_KEY, COF_API_KEY, 'wrong-cof-key', 'tokenPan']) expect(dump).not.toContain(secret);
    }
    expect(dumps[1]).toContain('token-update');
  });
});
