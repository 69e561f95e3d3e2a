import { startD1Simulator, type D1Simulator } from '../../local/d1-simulator';

/**
 * The control API's input checks: a bad body answers 400 VALIDATION_FAILED naming the field, and changes nothing.
 * Nothing here is delivered, so our service's URL is a port nobody listens on.
 */

let sim: D1Simulator;

beforeAll(async () => {
  sim = await startD1Simulator({ port: 0, issuerId: 'ISSUER0001', serviceBaseUrl: 'http://127.0.0.1:9' });
});

afterAll(() => sim.stop());

beforeEach(() => sim.reset());

type JsonBody = Record<string, any>;

async function call(path: string, body?: unknown, method = 'POST') {
  const res = await fetch(`${sim.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as JsonBody };
}

const rejected = (message: string) => ({ status: 400, body: { error: { code: 'VALIDATION_FAILED', message } } });
const STATUSES = 'DEPLOYMENT_ONGOING, INACTIVE, RESUMED, SUSPENDED, DELETED, ERASED';
const TOKEN_FIELDS = 'tokenState, tokenLastDigits, tokenExpiryDate, cardLastDigits, cardExpiryDate, cardBin, par, cardArt';
const callback = { issuerCardRefId: 'card-1', virtualCardId: 'vc-1', action: 'SUSPEND' };

async function nothingChanged() {
  await sim.idle();
  expect((await call('/_sim/cards', undefined, 'GET')).body).toEqual({ cards: [] });
  expect((await call('/_sim/network-tokens', undefined, 'GET')).body).toEqual({ tokens: [] });
  expect((await call('/_sim/deliveries', undefined, 'GET')).body).toEqual({ deliveries: [] });
}

describe('control API bodies', () => {
  it.each([
    ['/_sim/cards', '[1]', 'body must be a JSON object'],
    ['/_sim/cards', {}, 'issuerCardRefId is required'],
    ['/_sim/cards', { issuerCardRefId: 'card-1', tokens: {} }, 'tokens must be an array'],
    ['/_sim/cards', { issuerCardRefId: 'card-1', tokens: [{ status: 'RESUMED' }] }, 'tokens[].virtualCardId is required'],
    [
      '/_sim/cards',
      { issuerCardRefId: 'card-1', tokens: [{ virtualCardId: 'vc-1' }, { virtualCardId: 'vc-2', status: 'FROZEN' }] },
      `tokens[].status must be one of ${STATUSES}`,
    ],
    ['/_sim/card-batches', { count: 3 }, 'prefix must match ^[a-zA-Z0-9_-]{1,32}$'],
    ['/_sim/card-batches', { prefix: 'bin 1', count: 3 }, 'prefix must match ^[a-zA-Z0-9_-]{1,32}$'],
    ['/_sim/card-batches', { prefix: 'bin', count: 0 }, 'count must be an integer >= 1'],
    ['/_sim/card-batches', { prefix: 'bin', count: 10_001 }, 'count must be at most 10000'],
    ['/_sim/card-batches', { prefix: 'bin', count: 2, activate: 'yes' }, 'activate must be a boolean'],
    ['/_sim/callbacks', { issuerCardRefId: 'card-1', virtualCardId: 'vc-1' }, 'issuerCardRefId, virtualCardId and action are required strings'],
    ['/_sim/callbacks', { ...callback, errorCode: '221' }, 'errorCode must be a number'],
    ['/_sim/callbacks', { ...callback, delivery: { duplicate: -1 } }, 'delivery.duplicate must be an integer >= 0'],
    ['/_sim/callbacks', { ...callback, delivery: { delayMs: 1.5 } }, 'delivery.delayMs must be an integer >= 0'],
    ['/_sim/callbacks/batch', { callbacks: {} }, 'callbacks must be an array'],
    ['/_sim/callbacks/batch', { callbacks: [], order: 'sideways' }, 'order must be as-given, reverse or shuffle'],
    ['/_sim/callbacks/batch', { callbacks: [callback, 'SUSPEND'] }, 'each callback must be an object'],
    ['/_sim/network-tokens', { tokenId: 'bad id', merchantId: 'm-1' }, 'tokenId must match ^[a-zA-Z0-9_-]{1,128}$'],
    ['/_sim/network-tokens', { tokenId: 't-1', merchantId: '' }, 'merchantId must be a string'],
    ['/_sim/network-tokens', { tokenId: 't-1' }, 'merchantId is required for a new token'],
    ['/_sim/network-tokens', { tokenId: 't-1', merchantId: 'm-1', tokenState: '' }, 'tokenState must be a string'],
    ['/_sim/network-tokens', { tokenId: 't-1', merchantId: 'm-1', tokenLastDigits: 4242 }, 'tokenLastDigits must be a string of 1–5 digits'],
    ['/_sim/network-tokens', { tokenId: 't-1', merchantId: 'm-1', tokenExpiryDate: '1330' }, 'tokenExpiryDate must be MMYY'],
    ['/_sim/token-updates', { tokenId: 't-9', changes: {} }, 'merchantId is required for unknown token t-9'],
    ['/_sim/token-updates', { tokenId: 't-1', merchantId: 'm-1', changes: [] }, 'changes must be an object'],
    // An unknown key is reported before a bad value.
    [
      '/_sim/token-updates',
      { tokenId: 't-1', merchantId: 'm-1', changes: { tokenState: 5, colour: 'red' } },
      `changes.colour is not a token field (${TOKEN_FIELDS})`,
    ],
    ['/_sim/token-updates', { tokenId: 't-1', merchantId: 'm-1', changes: { tokenExpiryDate: '1330' } }, 'changes.tokenExpiryDate must be MMYY'],
    ['/_sim/token-updates', { tokenId: 't-1', merchantId: 'm-1', lastUpdateTimestamp: 5 }, 'lastUpdateTimestamp must be a string'],
    ['/_sim/token-updates', { tokenId: 't-1', merchantId: 'm-1', correlationId: '' }, 'correlationId must be a string'],
    ['/_sim/token-updates', { tokenId: 't-1', merchantId: 'm-1', delivery: 'fast' }, 'delivery must be an object'],
    ['/_sim/token-updates', { tokenId: 't-1', merchantId: 'm-1', delivery: { apiKey: 'stolen' } }, 'delivery.apiKey must be valid, wrong or missing'],
    ['/_sim/token-updates/batch', { updates: 't-1' }, 'updates must be an array'],
    [
      '/_sim/token-updates/batch',
      {
        updates: [
          { tokenId: 't-1', merchantId: 'm-1' },
          { tokenId: 't-1', changes: { colour: 'red' } },
        ],
      },
      `changes.colour is not a token field (${TOKEN_FIELDS})`,
    ],
    ['/_sim/faults', { updateCardState: { mode: 'slow' } }, 'updateCardState.mode must be one of ok, http500, http503, http429, timeout, reject400'],
    ['/_sim/faults', { updateCardState: { mode: 'http500', responseCode: '921' } }, 'updateCardState.responseCode must be a number'],
    ['/_sim/faults', { updateCardState: { mode: 'http500', times: 0 } }, 'updateCardState.times must be an integer >= 1'],
    ['/_sim/faults', { callbacks: [] }, 'callbacks must be an object'],
    ['/_sim/faults', { callbacks: { errorCode: '221' } }, 'callbacks.errorCode must be a number or null'],
    ['/_sim/faults', { callbacks: { duplicate: 1, delayMs: -5 } }, 'callbacks.delayMs must be an integer >= 0'],
    ['/_sim/faults', { transactions: { mode: 'slow' } }, 'transactions.mode must be one of ok, http400, http404, http500, http503, timeout, badJwe'],
    ['/_sim/faults', { transactions: { mode: 'http500', times: 1.5 } }, 'transactions.times must be an integer >= 1'],
  ])('POST %s %j → 400 %s', async (path, body, message) => {
    expect(await call(path, body)).toEqual(rejected(message));
    await nothingChanged();
  });

  it('a card batch seeds one token per card and, unless told not to, sends one ACTIVATE per token', async () => {
    // Nobody listens at the service URL: each delivery ends in a network error, which is what the tally shows.
    const seeded = await call('/_sim/card-batches?wait=true', { prefix: 'bin', count: 3 });
    expect(seeded.status).toBe(200);
    expect(seeded.body).toMatchObject({ cards: 3, first: 'bin-card-0', last: 'bin-card-2', deliveries: 3 });
    expect(Object.values(seeded.body.delivered as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(3);
    expect((await call('/_sim/cards/bin-card-2', undefined, 'GET')).body).toEqual({
      issuerCardRefId: 'bin-card-2',
      tokens: [{ virtualCardId: 'bin-vc-2', walletProviderId: 'APPLE_PAY', status: 'RESUMED' }],
    });
    const sent = (await call('/_sim/deliveries', undefined, 'GET')).body.deliveries as { virtualCardId: string; action: string }[];
    expect(sent.map((d) => [d.virtualCardId, d.action])).toEqual([
      ['bin-vc-0', 'ACTIVATE'],
      ['bin-vc-1', 'ACTIVATE'],
      ['bin-vc-2', 'ACTIVATE'],
    ]);

    expect(await call('/_sim/card-batches', { prefix: 'quiet', count: 2, activate: false })).toEqual({
      status: 201,
      body: { cards: 2, first: 'quiet-card-0', last: 'quiet-card-1' },
    });
    await sim.idle();
    expect((await call('/_sim/deliveries', undefined, 'GET')).body.deliveries).toHaveLength(3);
  });

  it('a rejected fault leaves the armed faults as they were', async () => {
    await call('/_sim/faults', { transactions: { mode: 'http503', times: 2 } });
    const before = (await call('/_sim/faults', undefined, 'GET')).body;
    expect((await call('/_sim/faults', { transactions: { mode: 'slow' } })).status).toBe(400);
    expect((await call('/_sim/faults', undefined, 'GET')).body).toEqual(before);
  });

  it('fields the simulator defaults take the default instead of a 400', async () => {
    const card = await call('/_sim/cards', { issuerCardRefId: 'card-1', tokens: [{ virtualCardId: 'vc-1', walletProviderId: '', status: null }] });
    expect(card).toEqual({
      status: 201,
      body: { issuerCardRefId: 'card-1', tokens: [{ virtualCardId: 'vc-1', walletProviderId: 'APPLE_PAY', status: 'RESUMED' }] },
    });

    const faults = await call('/_sim/faults', {
      callbacks: { errorCode: 221, reorder: 'yes', times: 2, colour: 'red' },
      updateCardState: { mode: 'http500', extra: 1 },
    });
    expect(faults).toEqual({
      status: 200,
      body: {
        updateCardState: { mode: 'http500' },
        callbacks: { duplicate: 0, delayMs: 0, reorder: false, errorCode: 221, drop: false, beforeAnswer: false, times: 2 },
        transactions: { mode: 'ok' },
      },
    });
  });
});
