import { randomUUID } from 'node:crypto';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { EnvelopeCredentialVault, rawAesKeyring } from '../../lambdas/adapters/credential-vault';
import { D1CofClient } from '../../lambdas/adapters/d1-cof-client';
import { DynamoDbNetworkTokenStore } from '../../lambdas/adapters/dynamodb-network-token-store';
import { JoseJweDecrypter } from '../../lambdas/adapters/jwe-decrypter';
import type { TokenUpdate } from '../../lambdas/domain/network-token';
import type { RequestRecord } from '../../local/d1-simulator';
import type { CreateTransactionAnswer, D1CofGateway } from '../../lambdas/ports/network-tokens';
import { createTransaction } from '../../lambdas/use-cases/network-token-credentials';
import { processTokenUpdate } from '../../lambdas/use-cases/process-token-update';
import { captureOutput } from '../support/capture';
import type { ErrorBody, NetworkTokenView } from '../support/contract-types';
import { networkTokenRoutes } from '../support/routes';
import { merchantJweKeyPem, merchantSimulator, useStackWithSimulator } from '../support/simulator';
import { TEST_ENV } from '../support/stack';

/**
 * Create Transaction and the stored token PAN end to end (DESIGN §2 rules 11, 14; §3 network-token API; §4
 * Create Transaction): POST /v1/network-tokens/{id}/transactions → network-token-credentials → the D1 simulator's
 * COF `POST /transactions` (a real JWE to our key) → decrypt → envelope-encrypted PAN in DynamoDB Local → read back
 * through GET …/token-pan. Tokens are taught to our service by the simulator's own token-update deliveries; D1
 * failures come from its fault API. The race between a transaction and a token update is driven at the use-case
 * level with the real adapters, the interfering update applied through the real apply use case.
 */

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

interface Transaction {
  transactionId: string;
  tokenPan: string;
  tokenExpiryDate: string;
  cryptogram: string;
  eci?: string;
  cryptogramExpiryDate?: string;
}

interface TokenPan {
  tokenId: string;
  tokenPan: string;
  tokenExpiryDate: string;
}

interface SimNetworkToken {
  tokenId: string;
  tokenLastDigits: string;
  tokenExpiryDate: string;
  tokenState: string;
}

const privatePem = merchantJweKeyPem();

const { d1, stack, sim } = useStackWithSimulator({
  d1BaseUrlEnv: 'D1_COF_BASE_URL',
  env: { TR_JWE_PRIVATE_KEY: privatePem, D1_TIMEOUT_MS: '500' },
  simulator: merchantSimulator(privatePem),
});

// ---------------------------------------------------------------------------------------------------------
// helpers

const newTokenId = (label: string): string => `ntx-${label}-${randomUUID().slice(0, 8)}`;

const setTransactionFault = (mode: string, times = 1) => d1.setFaults({ transactions: { mode, times } });

/** Create Transaction calls our service made to the simulator for one token. */
function cofRequests(tokenId: string): Promise<RequestRecord[]> {
  return d1.simRequests('/transactions', (r) => (r.body as { tokenId?: string } | null)?.tokenId === tokenId);
}

const { getJson, getToken, tokenNow, tokenWhen } = networkTokenRoutes(() => stack.url);

const getTokenPan = (tokenId: string) => getJson<TokenPan & ErrorBody>(`/v1/network-tokens/${tokenId}/token-pan`);

async function expectNoTokenPan(tokenId: string): Promise<void> {
  const res = await getTokenPan(tokenId);
  expect(res.status).toBe(404);
  expect(res.body.error.code).toBe('NOT_FOUND');
}

async function postTransaction(
  tokenId: string,
  body: unknown = { transactionType: 'SINGLE' },
  contentType = 'application/json',
): Promise<{ status: number; body: Transaction & ErrorBody }> {
  const res = await fetch(`${stack.url}/v1/network-tokens/${tokenId}/transactions`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Transaction & ErrorBody };
}

async function createOk(tokenId: string): Promise<Transaction> {
  const res = await postTransaction(tokenId);
  expect(res.status).toBe(201);
  return res.body;
}

/** The raw DynamoDB item of a network token. */
async function storedItem(tokenId: string): Promise<Record<string, unknown>> {
  const out = await stack.ddb.send(
    new GetCommand({ TableName: process.env.TABLE_NAME!, Key: { pk: `NTOKEN#${tokenId}`, sk: 'NTOKEN' }, ConsistentRead: true }),
  );
  if (!out.Item) throw new Error(`no item for ${tokenId}`);
  return out.Item;
}

/** A token update delivered by the simulator (its model moves too) and acknowledged 204 by our webhook. */
async function simUpdate(tokenId: string, changes: Record<string, unknown>, merchantId?: string): Promise<string> {
  const sent = await d1.simCall<{ statuses: number[]; correlationId: string }>('POST', '/_sim/token-updates?wait=true', {
    tokenId,
    ...(merchantId ? { merchantId } : {}),
    changes,
  });
  expect(sent.statuses).toEqual([204]);
  return sent.correlationId;
}

/** A token update POSTed straight to our webhook (the simulator's model does not move). */
async function notifyDirect(body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${stack.url}/tsh-cof/notify-token-update`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `APIKEY ${TEST_ENV.TR_API_KEY}`, 'x-correlation-id': randomUUID() },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(204);
}

/**
 * A network token D1 knows (seeded in the simulator with `lastDigits`) and our service has learnt through a
 * token update from the simulator: ACTIVE, same last digits and expiry.
 */
async function provision(label: string, lastDigits = '4242'): Promise<{ tokenId: string; simToken: SimNetworkToken; ours: NetworkTokenView }> {
  const tokenId = newTokenId(label);
  const simToken = await d1.simCall<SimNetworkToken>('POST', '/_sim/network-tokens', { tokenId, merchantId: 'merchant-tx', tokenLastDigits: lastDigits });
  expect(simToken.tokenLastDigits).toBe(lastDigits);
  await simUpdate(tokenId, { tokenState: 'ACTIVE', tokenLastDigits: lastDigits, tokenExpiryDate: simToken.tokenExpiryDate });
  const ours = await tokenWhen(tokenId, (t) => t.state === 'ACTIVE' && t.tokenLastDigits === lastDigits);
  expect(ours.tokenPanStored).toBe(false);
  return { tokenId, simToken, ours };
}

/** The real adapters the credentials Lambda is wired with, on this stack's table and keys. */
function realAdapters() {
  const store = new DynamoDbNetworkTokenStore(stack.ddb, process.env.TABLE_NAME!);
  return {
    store,
    vault: new EnvelopeCredentialVault(rawAesKeyring(TEST_ENV.DATA_KEY)),
    jwe: new JoseJweDecrypter(privatePem),
    cof: new D1CofClient({ baseUrl: sim.url, apiKey: TEST_ENV.D1_COF_API_KEY, timeoutMs: 5_000 }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Create Transaction

describe('POST /v1/network-tokens/{tokenId}/transactions', () => {
  it('201 with the decrypted credentials; the PAN is stored encrypted, readable via token-pan, and never in the item or the logs', async () => {
    const { tokenId, simToken } = await provision('ok');

    let tx: Transaction | undefined;
    let pan: { status: number; body: TokenPan } | undefined;
    let view: NetworkTokenView | undefined;
    const output = await captureOutput(async () => {
      tx = await createOk(tokenId);
      pan = await getTokenPan(tokenId);
      view = await tokenNow(tokenId);
    });

    expect(Object.keys(tx!).sort()).toEqual(['cryptogram', 'cryptogramExpiryDate', 'eci', 'tokenExpiryDate', 'tokenPan', 'transactionId']);
    expect(tx).toEqual({
      transactionId: expect.any(String),
      tokenPan: expect.stringMatching(/^\d{12}4242$/),
      tokenExpiryDate: simToken.tokenExpiryDate,
      cryptogram: expect.any(String),
      eci: '05',
      cryptogramExpiryDate: expect.stringMatching(ISO_INSTANT),
    });
    const { tokenPan, cryptogram } = tx!;
    expect(cryptogram.length).toBeGreaterThan(0);

    expect(pan!.status).toBe(200);
    expect(pan!.body).toEqual({ tokenId, tokenPan, tokenExpiryDate: simToken.tokenExpiryDate });
    expect(view).toMatchObject({ tokenId, state: 'ACTIVE', tokenLastDigits: '4242', tokenPanStored: true });
    expect(JSON.stringify(view)).not.toContain(tokenPan);

    // What we sent to D1: one call, our correlation id, an APIKEY authorization, the body of §4.
    const sent = await cofRequests(tokenId);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: 'POST', status: 201, body: { tokenId, transactionType: 'SINGLE' } });
    expect(sent[0]!.headers['x-correlation-id']).toMatch(/^.{1,64}$/);
    expect(sent[0]!.headers.authorization).toBe('APIKEY ***');

    // At rest: sealed, never the PAN nor the cryptogram, in any attribute — nor anywhere in the table.
    const item = await storedItem(tokenId);
    expect(item.tokenPanStored).toBe(true);
    expect(typeof item.sealedCredentials).toBe('string');
    const itemText = JSON.stringify(item);
    expect(itemText).not.toContain(tokenPan);
    expect(itemText).not.toContain(cryptogram);
    expect(itemText).not.toContain(tokenPan.slice(0, 12));
    const table = JSON.stringify((await stack.ddb.send(new ScanCommand({ TableName: process.env.TABLE_NAME! }))).Items);
    expect(table).not.toContain(tokenPan);
    expect(table).not.toContain(cryptogram);

    // Logs: the audit lines are there (so the capture worked), card data is not.
    expect(output).toContain('transaction created');
    expect(output).toContain('token PAN read');
    expect(output).toContain(tokenId);
    expect(output).not.toContain(tokenPan);
    expect(output).not.toContain(tokenPan.slice(0, 12));
    expect(output).not.toContain(cryptogram);
    expect(output).not.toContain(TEST_ENV.D1_COF_API_KEY);
  });

  it('each transaction gets its own correlation id toward D1, and a second one replaces the stored credentials', async () => {
    const { tokenId } = await provision('twice');
    const first = await createOk(tokenId);
    const second = await createOk(tokenId);
    expect(second.transactionId).not.toBe(first.transactionId);
    expect(second.cryptogram).not.toBe(first.cryptogram);
    // Same token PAN generation at D1: same PAN.
    expect(second.tokenPan).toBe(first.tokenPan);
    const sent = await cofRequests(tokenId);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.headers['x-correlation-id']).not.toBe(sent[1]!.headers['x-correlation-id']);
    expect((await getTokenPan(tokenId)).body).toMatchObject({ tokenPan: first.tokenPan });
  });

  it('new tokenLastDigits drop the stored PAN (rule 11); the next transaction stores the new one', async () => {
    const { tokenId } = await provision('digits');
    const first = await createOk(tokenId);
    expect((await getTokenPan(tokenId)).status).toBe(200);

    await simUpdate(tokenId, { tokenLastDigits: '5151' });
    await tokenWhen(tokenId, (t) => t.tokenLastDigits === '5151');
    expect((await tokenNow(tokenId)).tokenPanStored).toBe(false);
    await expectNoTokenPan(tokenId);
    expect((await storedItem(tokenId)).sealedCredentials).toBeUndefined();

    const second = await createOk(tokenId);
    expect(second.tokenPan).toMatch(/^\d{12}5151$/);
    expect(second.tokenPan).not.toBe(first.tokenPan);
    const pan = await getTokenPan(tokenId);
    expect(pan.status).toBe(200);
    expect(pan.body.tokenPan).toBe(second.tokenPan);
    expect((await tokenNow(tokenId)).tokenPanStored).toBe(true);
  });

  it('an update that keeps the same tokenLastDigits keeps the stored PAN', async () => {
    const { tokenId } = await provision('keep');
    const tx = await createOk(tokenId);
    await simUpdate(tokenId, { tokenLastDigits: '4242', cardArt: { v: 2 } });
    await tokenWhen(tokenId, (t) => JSON.stringify(t).includes('"cardArt":{"v":2}'));
    expect((await tokenNow(tokenId)).tokenPanStored).toBe(true);
    expect((await getTokenPan(tokenId)).body.tokenPan).toBe(tx.tokenPan);
  });

  it('a DELETED token: the stored PAN is dropped, and a transaction is 409 TOKEN_DELETED with nothing sent to D1', async () => {
    const { tokenId } = await provision('deleted');
    await createOk(tokenId);
    await simUpdate(tokenId, { tokenState: 'DELETED' });
    await tokenWhen(tokenId, (t) => t.state === 'DELETED');
    expect((await tokenNow(tokenId)).tokenPanStored).toBe(false);
    await expectNoTokenPan(tokenId);

    const before = (await cofRequests(tokenId)).length;
    const res = await postTransaction(tokenId);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('TOKEN_DELETED');
    expect(await cofRequests(tokenId)).toHaveLength(before);
    await expectNoTokenPan(tokenId);
  });

  it('an unknown token → 404 NOT_FOUND with nothing sent to D1, even when D1 knows it', async () => {
    const tokenId = newTokenId('unknown');
    await d1.simCall('POST', '/_sim/network-tokens', { tokenId, merchantId: 'merchant-tx', tokenLastDigits: '4242' });
    const res = await postTransaction(tokenId);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NOT_FOUND');
    expect(await cofRequests(tokenId)).toHaveLength(0);
    expect(await getToken(tokenId)).toBeUndefined();
  });

  it('a SUSPENDED token is forwarded: D1 decides (it refuses: 502), nothing stored', async () => {
    const { tokenId } = await provision('suspended');
    await simUpdate(tokenId, { tokenState: 'SUSPENDED' });
    await tokenWhen(tokenId, (t) => t.state === 'SUSPENDED');
    const res = await postTransaction(tokenId);
    expect(res.status).toBe(502);
    expect(res.body.error.code).toBe('UPSTREAM_ERROR');
    expect(await cofRequests(tokenId)).toHaveLength(1);
    await expectNoTokenPan(tokenId);
  });

  it('a PAN that does not end with the token’s known last digits is returned but not stored', async () => {
    const { tokenId } = await provision('mismatch');
    // Our service learns other last digits than D1 will put in the PAN (D1's model is not told).
    await notifyDirect({ tokenId, merchantId: 'merchant-tx', lastUpdateTimestamp: new Date(Date.now() + 60_000).toISOString(), tokenLastDigits: '9999' });
    await tokenWhen(tokenId, (t) => t.tokenLastDigits === '9999');

    const tx = await createOk(tokenId);
    expect(tx.tokenPan).toMatch(/4242$/);
    expect((await tokenNow(tokenId)).tokenPanStored).toBe(false);
    await expectNoTokenPan(tokenId);
    expect((await storedItem(tokenId)).sealedCredentials).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------
// D1 failures

describe('D1 failures: mapped, and nothing stored', () => {
  it.each([
    ['http400', 502, 'UPSTREAM_ERROR'],
    ['http404', 502, 'UPSTREAM_ERROR'],
    ['http500', 503, 'UNAVAILABLE'],
    ['http503', 503, 'UNAVAILABLE'],
    ['timeout', 503, 'UNAVAILABLE'],
    ['badJwe', 502, 'UPSTREAM_ERROR'],
  ])('%s → %d %s', async (mode, status, code) => {
    const { tokenId } = await provision(`f-${mode}`);
    await setTransactionFault(mode);
    const started = Date.now();
    const res = await postTransaction(tokenId);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(JSON.stringify(res.body)).not.toMatch(/tokenPan|cryptogram/);
    if (mode === 'timeout') expect(Date.now() - started).toBeLessThan(5_000);
    expect(await cofRequests(tokenId)).toHaveLength(1);
    expect((await tokenNow(tokenId)).tokenPanStored).toBe(false);
    await expectNoTokenPan(tokenId);
    expect((await storedItem(tokenId)).sealedCredentials).toBeUndefined();
  });

  it('failures leave a previously stored PAN exactly as it was', async () => {
    const { tokenId } = await provision('keep-prev');
    const tx = await createOk(tokenId);
    const before = await storedItem(tokenId);
    for (const [mode, status] of [
      ['http400', 502],
      ['http500', 503],
      ['timeout', 503],
      ['badJwe', 502],
    ] as const) {
      await setTransactionFault(mode);
      const res = await postTransaction(tokenId);
      expect(res.status).toBe(status);
    }
    expect(await storedItem(tokenId)).toEqual(before);
    expect((await tokenNow(tokenId)).tokenPanStored).toBe(true);
    const pan = await getTokenPan(tokenId);
    expect(pan.status).toBe(200);
    expect(pan.body.tokenPan).toBe(tx.tokenPan);
  });
});

// ---------------------------------------------------------------------------------------------------------
// request validation

describe('request validation', () => {
  it.each([
    { label: 'missing transactionType', body: {}, path: 'transactionType' },
    { label: 'empty transactionType', body: { transactionType: '' }, path: 'transactionType' },
    { label: 'transactionType of 65 chars', body: { transactionType: 'T'.repeat(65) }, path: 'transactionType' },
    { label: 'transactionType as a number', body: { transactionType: 1 }, path: 'transactionType' },
    { label: 'a JSON array', body: ['SINGLE'], path: '' },
    { label: 'malformed JSON', body: '{"transactionType":', path: '' },
  ])('$label → 400 naming path "$path", nothing sent to D1', async ({ body, path }) => {
    const { tokenId } = await provision('val');
    const res = await postTransaction(tokenId, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.fields?.map((f) => f.path)).toEqual([path]);
    expect(await cofRequests(tokenId)).toHaveLength(0);
    await expectNoTokenPan(tokenId);
  });

  it('transactionType of 64 chars is accepted', async () => {
    const { tokenId } = await provision('val64');
    const res = await postTransaction(tokenId, { transactionType: 'T'.repeat(64) });
    expect(res.status).toBe(201);
  });

  it('a non-JSON content type → 415, nothing sent to D1', async () => {
    const { tokenId } = await provision('media');
    const res = await postTransaction(tokenId, { transactionType: 'SINGLE' }, 'text/plain');
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await cofRequests(tokenId)).toHaveLength(0);
  });
});

// ---------------------------------------------------------------------------------------------------------
// the race: a token update landing while D1 answers

describe('createTransaction racing a token update (rule 11)', () => {
  /** Wraps the real COF client: once D1 has answered, applies `update` through the real apply use case, then returns. */
  function interferingGateway(adapters: ReturnType<typeof realAdapters>, update: (tokenId: string) => TokenUpdate): D1CofGateway & { applied: string[] } {
    const applied: string[] = [];
    return {
      applied,
      async createTransaction(request): Promise<CreateTransactionAnswer> {
        const answer = await adapters.cof.createTransaction(request);
        const decision = await processTokenUpdate({ store: adapters.store }, update(request.tokenId));
        applied.push(decision.outcome);
        return answer;
      },
    };
  }

  const newerUpdate = (tokenId: string, fields: Partial<TokenUpdate>): TokenUpdate => ({
    tokenId,
    merchantId: 'merchant-tx',
    lastUpdateTimestamp: Date.now() + 60_000,
    correlationId: randomUUID(),
    receivedAt: new Date().toISOString(),
    ...fields,
  });

  it('control: with the real adapters and no interference, the credentials are stored and readable over HTTP', async () => {
    const { tokenId } = await provision('race-ctl');
    const adapters = realAdapters();
    const result = await createTransaction({ ...adapters }, tokenId, 'SINGLE');
    expect(result.stored).toBe(true);
    expect(result.tokenPan).toMatch(/4242$/);
    const pan = await getTokenPan(tokenId);
    expect(pan.status).toBe(200);
    expect(pan.body.tokenPan).toBe(result.tokenPan);
  });

  it('new tokenLastDigits applied after the token was read win: the fetched PAN is returned but not stored', async () => {
    const { tokenId } = await provision('race-digits');
    const adapters = realAdapters();
    const cof = interferingGateway(adapters, (id) => newerUpdate(id, { tokenLastDigits: '7777' }));
    const result = await createTransaction({ ...adapters, cof }, tokenId, 'SINGLE');
    expect(cof.applied).toEqual(['APPLIED']);
    expect(result.tokenPan).toMatch(/4242$/);
    expect(result.stored).toBe(false);
    await expectNoTokenPan(tokenId);
    expect(await tokenNow(tokenId)).toMatchObject({ tokenLastDigits: '7777', tokenPanStored: false });
    expect((await storedItem(tokenId)).sealedCredentials).toBeUndefined();
  });

  it('with a PAN already stored, the update drops it and the racing transaction does not bring it back', async () => {
    const { tokenId } = await provision('race-prev');
    await createOk(tokenId);
    expect((await getTokenPan(tokenId)).status).toBe(200);
    const adapters = realAdapters();
    const cof = interferingGateway(adapters, (id) => newerUpdate(id, { tokenLastDigits: '8888' }));
    const result = await createTransaction({ ...adapters, cof }, tokenId, 'SINGLE');
    expect(cof.applied).toEqual(['APPLIED']);
    expect(result.stored).toBe(false);
    await expectNoTokenPan(tokenId);
    expect(await tokenNow(tokenId)).toMatchObject({ tokenLastDigits: '8888', tokenPanStored: false });
  });

  it('a DELETED update landing meanwhile wins too', async () => {
    const { tokenId } = await provision('race-del');
    const adapters = realAdapters();
    const cof = interferingGateway(adapters, (id) => newerUpdate(id, { tokenState: 'DELETED' }));
    const result = await createTransaction({ ...adapters, cof }, tokenId, 'SINGLE');
    expect(result.stored).toBe(false);
    await expectNoTokenPan(tokenId);
    expect(await tokenNow(tokenId)).toMatchObject({ state: 'DELETED', tokenPanStored: false });
  });

  it('use case: a PAN not ending with the token’s last digits is not stored', async () => {
    const { tokenId } = await provision('uc-mismatch');
    await notifyDirect({ tokenId, merchantId: 'merchant-tx', lastUpdateTimestamp: new Date(Date.now() + 60_000).toISOString(), tokenLastDigits: '123' });
    await tokenWhen(tokenId, (t) => t.tokenLastDigits === '123');
    const result = await createTransaction({ ...realAdapters() }, tokenId, 'SINGLE');
    expect(result.tokenPan).toMatch(/4242$/);
    expect(result.stored).toBe(false);
    await expectNoTokenPan(tokenId);
  });
});
