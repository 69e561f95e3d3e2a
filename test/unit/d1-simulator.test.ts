import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startD1Simulator, type D1Simulator } from '../../local/d1-simulator';

const ISSUER_ID = 'ISSUER0001';

/** Stands in for our webhook gateway: records every callback and answers what `reply` says (200 by default). */
interface Received {
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}
let received: Received[] = [];
let reply: (n: number) => number = () => 200;
let receiver: Server;
let sim: D1Simulator;
const logLines: string[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(raw) as Record<string, unknown> });
      res.writeHead(reply(received.length), { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  sim = await startD1Simulator({
    port: 0,
    issuerId: ISSUER_ID,
    serviceBaseUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`,
    callbackRetryDelayMs: 10, // keeps the retry test fast; the default is 200 ms
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
  reply = () => 200;
});

type JsonBody = Record<string, any>;

async function call(path: string, body?: unknown, headers: Record<string, string> = {}, method = 'POST') {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as JsonBody };
}

const igwHeaders = (correlationId: string) => ({ 'x-correlation-id': correlationId, 'x-issuer-id': ISSUER_ID });
const updateCardState = (body: unknown, correlationId = 'corr-1') => call('/updateCardState', body, igwHeaders(correlationId));
const statuses = async (card: string) =>
  Object.fromEntries(
    (
      (await call('/getCardInfo', { issuerCardRefId: card }, igwHeaders('corr-info'))).body.virtualCardList as Array<{ virtualCardId: string; status: string }>
    ).map((t) => [t.virtualCardId, t.status]),
  );

async function seed() {
  const res = await call('/_sim/cards', {
    issuerCardRefId: 'card-1',
    tokens: [
      { virtualCardId: 'vc-1', walletProviderId: 'APPLE_PAY' },
      { virtualCardId: 'vc-2', walletProviderId: 'ANDROID_PAY', status: 'SUSPENDED' },
      { virtualCardId: 'vc-3', status: 'DELETED' },
    ],
  });
  expect(res.status).toBe(201);
}

describe('updateCardState', () => {
  it('token scope: answers 200 {} then sends exactly one callback with the same correlation and issuer ids', async () => {
    await seed();
    const res = await updateCardState({ issuerCardRefId: 'card-1', virtualCardId: 'vc-1', action: 'SUSPEND', reason: 'lost' });
    expect(res).toEqual({ status: 200, body: {} });
    await sim.idle();

    expect(received).toHaveLength(1);
    expect(received[0]!.headers).toMatchObject({ 'x-correlation-id': 'corr-1', 'x-issuer-id': ISSUER_ID, 'content-type': 'application/json' });
    expect(received[0]!.body).toEqual({
      issuerCardRefId: 'card-1',
      virtualCardId: 'vc-1',
      walletProviderId: 'APPLE_PAY',
      action: 'SUSPEND',
      source: 'ISSUER',
      isPrimary: true,
    });
    // What our service sent is recorded for assertions.
    const log = (await call('/_sim/requests', undefined, {}, 'GET')).body.requests;
    expect(log).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/updateCardState',
        status: 200,
        headers: { 'x-correlation-id': 'corr-1', 'x-issuer-id': ISSUER_ID },
        body: { issuerCardRefId: 'card-1', virtualCardId: 'vc-1', action: 'SUSPEND', reason: 'lost' },
      }),
    ]);
  });

  it('card scope: one callback per non-deleted token, and getCardInfo reflects the change', async () => {
    await seed();
    expect(await statuses('card-1')).toEqual({ 'vc-1': 'RESUMED', 'vc-2': 'SUSPENDED', 'vc-3': 'DELETED' });

    expect((await updateCardState({ issuerCardRefId: 'card-1', action: 'SUSPEND' }, 'corr-card')).status).toBe(200);
    await sim.idle();
    expect(received.map((r) => [r.body.virtualCardId, r.headers['x-correlation-id']])).toEqual([
      ['vc-1', 'corr-card'],
      ['vc-2', 'corr-card'],
    ]);
    expect(await statuses('card-1')).toEqual({ 'vc-1': 'SUSPENDED', 'vc-2': 'SUSPENDED', 'vc-3': 'DELETED' });

    await updateCardState({ issuerCardRefId: 'card-1', virtualCardId: 'vc-2', action: 'RESUME' }, 'corr-2');
    await updateCardState({ issuerCardRefId: 'card-1', virtualCardId: 'vc-1', action: 'DELETE' }, 'corr-3');
    expect(await statuses('card-1')).toEqual({ 'vc-1': 'DELETED', 'vc-2': 'RESUMED', 'vc-3': 'DELETED' });
    const info = await call('/getCardInfo', { issuerCardRefId: 'card-1' }, igwHeaders('corr-info'));
    expect(info.body.virtualCardList[0]).toEqual({
      virtualCardId: 'vc-1',
      issuerCardRefId: 'card-1',
      walletProviderId: 'APPLE_PAY',
      deviceInformation: expect.any(Object),
      status: 'DELETED',
    });
  });

  it('answers 400 with an IGW errorRes when mandatory fields or headers are missing', async () => {
    await seed();
    expect(await updateCardState({ issuerCardRefId: 'card-1' })).toEqual({
      status: 400,
      body: { responseCode: 111, errorMessage: expect.stringContaining('action') },
    });
    const noHeaders = await call('/updateCardState', { issuerCardRefId: 'card-1', action: 'SUSPEND' });
    expect(noHeaders).toEqual({ status: 400, body: { responseCode: 111, errorMessage: expect.stringContaining('x-correlation-id') } });
    expect((await updateCardState({ issuerCardRefId: 'card-1', action: 'FREEZE' })).body.responseCode).toBe(112);
    expect((await updateCardState({ issuerCardRefId: 'card-1', virtualCardId: 'nope', action: 'SUSPEND' })).body.responseCode).toBe(119);
    expect((await updateCardState({ issuerCardRefId: 'card-1', virtualCardId: 'vc-3', action: 'RESUME' })).body.responseCode).toBe(432);
    const wrongIssuer = await call(
      '/updateCardState',
      { issuerCardRefId: 'card-1', action: 'SUSPEND' },
      { 'x-correlation-id': 'c', 'x-issuer-id': 'OTHER00001' },
    );
    expect(wrongIssuer.body.responseCode).toBe(113);
    await sim.idle();
    expect(received).toHaveLength(0);
    expect(await statuses('card-1')).toEqual({ 'vc-1': 'RESUMED', 'vc-2': 'SUSPENDED', 'vc-3': 'DELETED' });
    expect((await call('/nope', {})).status).toBe(404);
  });
});

describe('faults', () => {
  it('errorCode: callbacks carry it and the model is unchanged', async () => {
    await seed();
    await call('/_sim/faults', { callbacks: { errorCode: 221 } });
    await updateCardState({ issuerCardRefId: 'card-1', virtualCardId: 'vc-1', action: 'SUSPEND' });
    await sim.idle();
    expect(received.map((r) => r.body)).toEqual([expect.objectContaining({ virtualCardId: 'vc-1', action: 'SUSPEND', errorCode: 221 })]);
    expect((await statuses('card-1'))['vc-1']).toBe('RESUMED');
  });

  it('drop: the model changes but no callback is sent (drift for reconciliation)', async () => {
    await seed();
    await call('/_sim/faults', { callbacks: { drop: true } });
    await updateCardState({ issuerCardRefId: 'card-1', virtualCardId: 'vc-1', action: 'SUSPEND' });
    await sim.idle();
    expect(received).toHaveLength(0);
    expect((await statuses('card-1'))['vc-1']).toBe('SUSPENDED');
  });

  it('http500 with times:1 fails once, then succeeds; both calls are logged with their correlation id', async () => {
    await seed();
    await call('/_sim/faults', { updateCardState: { mode: 'http500', times: 1 } });
    const body = { issuerCardRefId: 'card-1', virtualCardId: 'vc-1', action: 'SUSPEND' };
    expect(await updateCardState(body, 'corr-retry')).toEqual({ status: 500, body: { responseCode: 921, errorMessage: expect.any(String) } });
    expect(await updateCardState(body, 'corr-retry')).toEqual({ status: 200, body: {} });
    await sim.idle();
    expect(received).toHaveLength(1);
    const log = (await call('/_sim/requests', undefined, {}, 'GET')).body.requests as JsonBody[];
    expect(log.map((r) => [r.status, r.headers['x-correlation-id']])).toEqual([
      [500, 'corr-retry'],
      [200, 'corr-retry'],
    ]);
  });

  it('reject400 answers the configured responseCode', async () => {
    await seed();
    await call('/_sim/faults', { updateCardState: { mode: 'reject400', responseCode: 321 } });
    expect(await updateCardState({ issuerCardRefId: 'card-1', action: 'DELETE' })).toEqual({
      status: 400,
      body: { responseCode: 321, errorMessage: expect.any(String) },
    });
    await call('/_sim/faults', undefined, {}, 'DELETE');
    expect((await updateCardState({ issuerCardRefId: 'card-1', action: 'DELETE' })).status).toBe(200);
  });

  it('timeout holds the request until the client gives up, and stop() still returns promptly', async () => {
    const own = await startD1Simulator({ port: 0, issuerId: ISSUER_ID, serviceBaseUrl: 'http://127.0.0.1:9' });
    const post = (signal?: AbortSignal) =>
      fetch(`${own.url}/updateCardState`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...igwHeaders('corr-t') },
        body: JSON.stringify({ issuerCardRefId: 'card-1', action: 'SUSPEND' }),
        ...(signal ? { signal } : {}),
      });
    await fetch(`${own.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ updateCardState: { mode: 'timeout' } }) });

    const started = Date.now();
    await expect(post(AbortSignal.timeout(150))).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    const held = post(); // no client timeout: only stop() can end it
    held.catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50)); // let the request reach the server
    const stopping = Date.now();
    await own.stop();
    expect(Date.now() - stopping).toBeLessThan(1000);
    await expect(held).rejects.toThrow();
  });
});

describe('/_sim/callbacks', () => {
  it('ACTIVATE from the wallet creates the token; duplicate delivers N+1 identical copies', async () => {
    const res = await call('/_sim/callbacks?wait=true', {
      issuerCardRefId: 'card-9',
      virtualCardId: 'vc-9',
      action: 'ACTIVATE',
      correlationId: 'enrol-1',
      delivery: { duplicate: 2 },
    });
    expect(res).toEqual({ status: 200, body: { correlationId: 'enrol-1', deliveries: 3, statuses: [200, 200, 200] } });
    expect(received).toHaveLength(3);
    for (const r of received) {
      expect(r.headers['x-correlation-id']).toBe('enrol-1');
      expect(r.body).toEqual({
        issuerCardRefId: 'card-9',
        virtualCardId: 'vc-9',
        walletProviderId: 'APPLE_PAY',
        action: 'ACTIVATE',
        source: 'WALLET',
        isPrimary: true,
      });
    }
    expect((await call('/_sim/cards/card-9', undefined, {}, 'GET')).body.tokens).toEqual([
      { virtualCardId: 'vc-9', walletProviderId: 'APPLE_PAY', status: 'RESUMED' },
    ]);
  });

  it('answers 202 without waiting; idle() waits for the deliveries; tokenInfo is delivered but never logged', async () => {
    const res = await call('/_sim/callbacks', {
      issuerCardRefId: 'card-9',
      virtualCardId: 'vc-9',
      action: 'RENEW',
      source: 'TSP',
      tokenInfo: { dpan: '5500000000000004' },
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ correlationId: expect.any(String), deliveries: 1 });
    await sim.idle();
    expect(received[0]!.body).toMatchObject({ action: 'RENEW', source: 'TSP', tokenInfo: { dpan: '5500000000000004' } });
    expect(logLines.join('\n')).not.toContain('5500000000000004');
  });

  it('batch with order reverse delivers in reverse, while the model follows the given order', async () => {
    await seed();
    const res = await call('/_sim/callbacks/batch?wait=true', {
      order: 'reverse',
      callbacks: [
        { issuerCardRefId: 'card-1', virtualCardId: 'vc-1', action: 'SUSPEND', correlationId: 'w-1' },
        { issuerCardRefId: 'card-1', virtualCardId: 'vc-1', action: 'RESUME', correlationId: 'w-2' },
        { issuerCardRefId: 'card-1', virtualCardId: 'vc-1', action: 'UNKNOWN_NEW_ACTION', correlationId: 'w-3' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.statuses).toEqual([200, 200, 200]);
    expect(received.map((r) => r.headers['x-correlation-id'])).toEqual(['w-3', 'w-2', 'w-1']);
    expect((await statuses('card-1'))['vc-1']).toBe('RESUMED');
  });

  it('retries a delivery that got a 5xx and records each delivery', async () => {
    reply = (n) => (n === 1 ? 503 : 200);
    await call('/_sim/callbacks', { issuerCardRefId: 'card-1', virtualCardId: 'vc-1', action: 'SUSPEND', correlationId: 'w-5' });
    await sim.idle();
    expect(received).toHaveLength(2);
    const { deliveries } = (await call('/_sim/deliveries', undefined, {}, 'GET')).body;
    expect(deliveries).toEqual([
      expect.objectContaining({ kind: 'callback', correlationId: 'w-5', virtualCardId: 'vc-1', action: 'SUSPEND', status: 200, attempts: 2 }),
    ]);
  });

  it('rejects an item without its mandatory fields', async () => {
    const res = await call('/_sim/callbacks', { issuerCardRefId: 'card-1', action: 'SUSPEND' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
  });
});
