import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { metrics, MetricUnit } from '../../lambdas/observability';
import { captureOutput } from '../support/capture';
import { spyOnIssuerCallbacks } from '../support/consumers';
import type { ErrorBody } from '../support/contract-types';
import { uid } from '../support/ids';
import { queueDepth as depthOf, queueDrained } from '../support/queues';
import { eventually, useTestStack, TEST_ENV } from '../support/stack';

/**
 * Bad input: every rejection DESIGN §3 defines for `POST /issuer/igwapi/v2.0/notifyVirtualCardChange`
 * answers the right status and error body, in the documented check order, and writes nothing (rule 13): nothing
 * reaches the queue or the consumer, and the table holds no item for the callback's virtualCardId.
 */

const WEBHOOK = '/issuer/igwapi/v2.0/notifyVirtualCardChange';
const MAX_BODY = 64 * 1024;

/** Every SQS message body the real consumer was handed. */
const consumed: string[] = [];
let consumedAtStart = 0;

const stack = useTestStack({
  loadConsumer: spyOnIssuerCallbacks(consumed),
});

beforeEach(() => {
  consumedAtStart = consumed.length;
});

afterEach(() => {
  jest.restoreAllMocks();
});

interface CallbackBody {
  issuerCardRefId: string;
  virtualCardId: string;
  action: string;
  [field: string]: unknown;
}

function validBody(vc = `vc-bad-${uid()}`): CallbackBody {
  return { issuerCardRefId: `card-bad-${uid()}`, virtualCardId: vc, action: 'ACTIVATE', source: 'WALLET' };
}

function validHeaders(): Record<string, string> {
  return { 'content-type': 'application/json', 'x-correlation-id': randomUUID(), 'x-issuer-id': TEST_ENV.ISSUER_ID };
}

async function post(body: string | Uint8Array, headers: Record<string, string>, path = WEBHOOK): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(stack.url + path, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) };
}

/** Headers without the named ones. */
function without(headers: Record<string, string>, ...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name)));
}

const queueDepth = () => depthOf(stack, stack.resources.queues.issuerCallbacks.url);

/** Waits for the queue to be empty and the pollers idle (used after accepted callbacks). */
const drained = (): Promise<void> => queueDrained(stack, stack.resources.queues.issuerCallbacks.url);

async function itemsFor(vc: string): Promise<number> {
  const result = await stack.ddb.send(
    new QueryCommand({ TableName: process.env.TABLE_NAME!, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `TOKEN#${vc}` } }),
  );
  return result.Count ?? 0;
}

/**
 * Rule 13: nothing was queued (the queue is empty, visible and in flight, and the consumer was handed nothing
 * since the test began) and nothing was stored for `vc`.
 */
async function expectNothingWritten(vc?: string): Promise<void> {
  await stack.service.idle();
  expect(await queueDepth()).toEqual({ visible: '0', inFlight: '0', delayed: '0' });
  expect(consumed.slice(consumedAtStart)).toEqual([]);
  if (vc !== undefined) {
    expect(await itemsFor(vc)).toBe(0);
    const res = await fetch(`${stack.url}/v1/tokens/${encodeURIComponent(vc)}`);
    expect(res.status).toBe(404);
  }
}

function expectValidationFailed(res: { status: number; body: unknown }, paths: string[]): void {
  expect(res.status).toBe(400);
  const body = res.body as ErrorBody;
  expect(body.error.code).toBe('VALIDATION_FAILED');
  expect(typeof body.error.message).toBe('string');
  expect(body.error.fields?.map((f) => f.path).sort()).toEqual([...paths].sort());
  for (const field of body.error.fields ?? []) expect(typeof field.message).toBe('string');
}

function expectError(res: { status: number; body: unknown }, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
}

describe('headers', () => {
  it('missing x-correlation-id → 400 headers.x-correlation-id', async () => {
    const body = validBody();
    const res = await post(JSON.stringify(body), without(validHeaders(), 'x-correlation-id'));
    expectValidationFailed(res, ['headers.x-correlation-id']);
    await expectNothingWritten(body.virtualCardId as string);
  });

  it('x-correlation-id of 65 characters → 400 headers.x-correlation-id (64 is accepted, see below)', async () => {
    const body = validBody();
    const res = await post(JSON.stringify(body), { ...validHeaders(), 'x-correlation-id': 'c'.repeat(65) });
    expectValidationFailed(res, ['headers.x-correlation-id']);
    await expectNothingWritten(body.virtualCardId as string);
  });

  it('missing x-issuer-id → 400 headers.x-issuer-id', async () => {
    const body = validBody();
    const res = await post(JSON.stringify(body), without(validHeaders(), 'x-issuer-id'));
    expectValidationFailed(res, ['headers.x-issuer-id']);
    await expectNothingWritten(body.virtualCardId as string);
  });

  it.each([
    ['9 characters', 'ISSUER000'],
    ['11 characters', 'ISSUER00011'],
  ])('x-issuer-id of %s → 400 headers.x-issuer-id', async (_label, issuerId) => {
    const body = validBody();
    const res = await post(JSON.stringify(body), { ...validHeaders(), 'x-issuer-id': issuerId });
    expectValidationFailed(res, ['headers.x-issuer-id']);
    await expectNothingWritten(body.virtualCardId as string);
  });

  it('a well-formed x-issuer-id of another issuer → 403 FORBIDDEN', async () => {
    const body = validBody();
    const res = await post(JSON.stringify(body), { ...validHeaders(), 'x-issuer-id': 'ISSUER0002' });
    expectError(res, 403, 'FORBIDDEN');
    await expectNothingWritten(body.virtualCardId as string);
  });

  it('the header check and the body schema are reported together: every failing field is named', async () => {
    const { action: _action, ...body } = validBody();
    const res = await post(JSON.stringify(body), without(validHeaders(), 'x-correlation-id', 'x-issuer-id'));
    expectValidationFailed(res, ['headers.x-correlation-id', 'headers.x-issuer-id', 'action']);
    await expectNothingWritten(body.virtualCardId as string);
  });
});

describe('body schema', () => {
  it.each(['issuerCardRefId', 'virtualCardId', 'action'])('missing %s → 400 naming it', async (field) => {
    const body = validBody();
    const vc = body.virtualCardId as string;
    delete body[field];
    const res = await post(JSON.stringify(body), validHeaders());
    expectValidationFailed(res, [field]);
    await expectNothingWritten(vc);
  });

  it('all three required fields missing → 400 naming each', async () => {
    const res = await post(JSON.stringify({ source: 'WALLET' }), validHeaders());
    expectValidationFailed(res, ['issuerCardRefId', 'virtualCardId', 'action']);
    await expectNothingWritten();
  });

  it.each([
    ['issuerCardRefId', 49],
    ['virtualCardId', 65],
    ['action', 33],
  ])('%s of %i characters → 400 naming it', async (field, length) => {
    const body = validBody();
    const vc = body.virtualCardId as string;
    body[field] = 'x'.repeat(length);
    const res = await post(JSON.stringify(body), validHeaders());
    expectValidationFailed(res, [field]);
    await expectNothingWritten(field === 'virtualCardId' ? (body.virtualCardId as string) : vc);
  });

  it.each(['issuerCardRefId', 'virtualCardId', 'action'])('empty %s → 400 naming it', async (field) => {
    const body = validBody();
    const vc = body.virtualCardId as string;
    body[field] = '';
    const res = await post(JSON.stringify(body), validHeaders());
    expectValidationFailed(res, [field]);
    await expectNothingWritten(vc);
  });

  it.each([
    ['the string "221"', '221'],
    ['2.5', 2.5],
    ['a boolean', true],
  ])('errorCode as %s → 400 errorCode', async (_label, errorCode) => {
    const body = { ...validBody(), errorCode };
    const res = await post(JSON.stringify(body), validHeaders());
    expectValidationFailed(res, ['errorCode']);
    await expectNothingWritten(body.virtualCardId as string);
  });

  it.each([
    ['a number', 42],
    ['an array', ['x']],
  ])('tokenInfo as %s → 400 tokenInfo', async (_label, tokenInfo) => {
    const body = { ...validBody(), tokenInfo };
    const res = await post(JSON.stringify(body), validHeaders());
    expectValidationFailed(res, ['tokenInfo']);
    await expectNothingWritten(body.virtualCardId as string);
  });
});

describe('media type, size and JSON shape', () => {
  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])('content-type %s → 415 UNSUPPORTED_MEDIA_TYPE', async (contentType) => {
    const body = validBody();
    const res = await post(JSON.stringify(body), { ...validHeaders(), 'content-type': contentType });
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectNothingWritten(body.virtualCardId as string);
  });

  it('a body without any content-type → 415', async () => {
    const body = validBody();
    const res = await post(new TextEncoder().encode(JSON.stringify(body)), without(validHeaders(), 'content-type'));
    expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectNothingWritten(body.virtualCardId as string);
  });

  it.each(['application/json', 'text/plain'])('a body over 64 KiB → 413 PAYLOAD_TOO_LARGE (content-type %s)', async (contentType) => {
    const body = validBody();
    const base = JSON.stringify({ ...body, padding: '' });
    const big = JSON.stringify({ ...body, padding: 'p'.repeat(MAX_BODY + 1 - base.length) });
    expect(Buffer.byteLength(big)).toBe(MAX_BODY + 1);
    const res = await post(big, { ...validHeaders(), 'content-type': contentType });
    expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    await expectNothingWritten(body.virtualCardId as string);
  });

  it.each([
    ['malformed JSON', '{"issuerCardRefId": "c", "virtualCardId":'],
    ['a JSON array', JSON.stringify([validBody()])],
    ['JSON null', 'null'],
    ['a JSON string', '"ACTIVATE"'],
    ['a JSON number', '42'],
    ['an empty body', ''],
  ])('%s → 400 with fields [{ path: "" }]', async (_label, raw) => {
    const res = await post(raw, validHeaders());
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: { code: 'VALIDATION_FAILED', message: expect.any(String), fields: [{ path: '', message: expect.any(String) }] } });
    await expectNothingWritten();
  });
});

describe('check order (DESIGN §3: 404 → 405 → 413 → 415 → auth → JSON → schema)', () => {
  it('403 wins over a malformed body and over a schema-invalid body', async () => {
    const other = { ...validHeaders(), 'x-issuer-id': 'ISSUER0002' };
    expectError(await post('{"virtualCardId": ', other), 403, 'FORBIDDEN');
    expectError(await post(JSON.stringify({ errorCode: '221' }), other), 403, 'FORBIDDEN');
    await expectNothingWritten();
  });

  it('415 wins over 403, and 413 wins over both', async () => {
    const body = validBody();
    const other = { ...validHeaders(), 'x-issuer-id': 'ISSUER0002' };
    expectError(await post(JSON.stringify(body), { ...other, 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const big = JSON.stringify({ ...body, padding: 'p'.repeat(MAX_BODY) });
    expectError(await post(big, { ...other, 'content-type': 'text/plain' }), 413, 'PAYLOAD_TOO_LARGE');
    await expectNothingWritten(body.virtualCardId as string);
  });

  it('a malformed body wins over header errors (missing or malformed headers are a later check)', async () => {
    const res = await post('[', without(validHeaders(), 'x-correlation-id', 'x-issuer-id'));
    expectValidationFailed(res, ['']);
    const res2 = await post('not json', { ...validHeaders(), 'x-issuer-id': 'short' });
    expectValidationFailed(res2, ['']);
    await expectNothingWritten();
  });

  it('GET on the webhook path → 405 METHOD_NOT_ALLOWED with allow: POST', async () => {
    const res = await fetch(stack.url + WEBHOOK, { headers: validHeaders() });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.json()).toEqual({ error: { code: 'METHOD_NOT_ALLOWED', message: expect.any(String) } });
    await expectNothingWritten();
  });

  it.each(['/issuer/igwapi/v2.0/notifyvirtualcardchange', '/Issuer/igwapi/v2.0/notifyVirtualCardChange', '/issuer/igwapi/v2.0/NotifyVirtualCardChange'])(
    'paths are case-sensitive: POST %s → 404 NOT_FOUND',
    async (path) => {
      const body = validBody();
      const res = await post(JSON.stringify(body), validHeaders(), path);
      expectError(res, 404, 'NOT_FOUND');
      await expectNothingWritten(body.virtualCardId as string);
    },
  );
});

describe('accepted input', () => {
  it('unknown extra fields are accepted (200) and ignored: not queued, not stored, not in the token', async () => {
    const body = {
      ...validBody(),
      walletProviderId: 'APPLE_PAY',
      isPrimary: true,
      tokenStorageId: 'ts-1',
      walletCardRefId: 'wcr-1',
      walletVirtualCardId: 'wvc-1',
      futureField: 'added-by-d1-later',
      nested: { futureObject: [1, 2, 3] },
    };
    const headers = validHeaders();
    const res = await post(JSON.stringify(body), headers);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    const vc = body.virtualCardId;
    const token = await eventually(async () => {
      const r = await fetch(`${stack.url}/v1/tokens/${encodeURIComponent(vc)}`);
      return r.status === 200 ? ((await r.json()) as Record<string, unknown>) : undefined;
    });
    expect(token).toEqual({
      virtualCardId: vc,
      issuerCardRefId: body.issuerCardRefId,
      walletProviderId: 'APPLE_PAY',
      // Kept: where the token lives (the wallet and secure element ids), never the device from a callback.
      tokenStorageId: 'ts-1',
      walletCardRefId: 'wcr-1',
      device: null,
      state: 'ACTIVE',
      lastAction: 'ACTIVATE',
      lastChangeSource: 'WALLET',
      lastOperationId: null,
      renewals: 0,
      lastRenewedAt: null,
      updatedAt: expect.any(String),
    });
    await drained();
    const messages = consumed.slice(consumedAtStart);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(headers['x-correlation-id']);
    expect(messages[0]).not.toContain('futureField');
    expect(messages[0]).not.toContain('futureObject');
    const stored = await stack.ddb.send(
      new QueryCommand({ TableName: process.env.TABLE_NAME!, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `TOKEN#${vc}` } }),
    );
    expect(JSON.stringify(stored.Items)).not.toContain('added-by-d1-later');
  });

  it('boundary lengths, JSON media-type variants and a body of exactly 64 KiB are accepted', async () => {
    const accepted: string[] = [];
    const ok = async (body: Record<string, unknown>, headers: Record<string, string>, raw?: string): Promise<void> => {
      const res = await post(raw ?? JSON.stringify(body), headers);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({});
      accepted.push(headers['x-correlation-id']!);
    };
    const atMax = {
      issuerCardRefId: `c${uid()}`.padEnd(48, 'c'),
      virtualCardId: `v${uid()}`.padEnd(64, 'v'),
      action: 'A'.repeat(32),
    };
    await ok(atMax, { ...validHeaders(), 'x-correlation-id': `k${uid()}`.padEnd(64, 'k') });
    await ok(validBody(), { ...validHeaders(), 'content-type': 'Application/JSON; charset=UTF-8' });
    await ok({ ...validBody(), errorCode: null, source: null, tokenInfo: null, walletProviderId: null }, validHeaders());
    const body = validBody();
    const base = JSON.stringify({ ...body, padding: '' });
    const exact = JSON.stringify({ ...body, padding: 'p'.repeat(MAX_BODY - base.length) });
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY);
    await ok(body, validHeaders(), exact);

    await eventually(async () => (accepted.every((cid) => consumed.some((m) => m.includes(cid))) ? true : undefined));
    await drained();
  });
});

describe('rejections are counted and logged without values (rule 13, 14)', () => {
  it('each rejected webhook increments RejectedRequests once; accepted ones do not', async () => {
    const addMetric = jest.spyOn(metrics, 'addMetric');
    const rejected = () => addMetric.mock.calls.filter(([name]) => name === 'RejectedRequests');
    const other = { ...validHeaders(), 'x-issuer-id': 'ISSUER0002' };

    const cases: [string | Uint8Array, Record<string, string>, number][] = [
      [JSON.stringify({ ...validBody(), errorCode: '221' }), validHeaders(), 400],
      [JSON.stringify(validBody()), without(validHeaders(), 'x-correlation-id'), 400],
      ['{', validHeaders(), 400],
      [JSON.stringify(validBody()), other, 403],
      [JSON.stringify(validBody()), { ...validHeaders(), 'content-type': 'text/plain' }, 415],
      ['x'.repeat(MAX_BODY + 1), validHeaders(), 413],
    ];
    let expected = 0;
    for (const [body, headers, status] of cases) {
      const res = await post(body, headers);
      expect(res.status).toBe(status);
      expected += 1;
      expect(rejected()).toHaveLength(expected);
    }
    for (const call of rejected()) expect(call).toEqual(['RejectedRequests', MetricUnit.Count, 1]);
    await expectNothingWritten();

    const res = await post(JSON.stringify(validBody()), validHeaders());
    expect(res.status).toBe(200);
    expect(rejected()).toHaveLength(expected);
    await drained();
  });

  it('the warn log of a rejection lists field paths only, never values', async () => {
    const SECRET = `S3CR3T-${randomUUID()}`;
    const PAN = '4000123412341234';
    const vc = `vc-secret-${uid()}`;
    const secretBody = {
      issuerCardRefId: `${SECRET}-${'x'.repeat(48)}`,
      virtualCardId: vc,
      action: 'ACTIVATE',
      errorCode: SECRET,
      source: 7,
      tokenInfo: [PAN, SECRET],
      walletProviderId: '',
    };
    const statuses: number[] = [];
    const output = await captureOutput(async () => {
      statuses.push((await post(JSON.stringify(secretBody), validHeaders())).status);
      statuses.push(
        (await post(JSON.stringify({ ...validBody(vc), tokenInfo: { dpan: PAN } }), { ...validHeaders(), 'x-correlation-id': `${SECRET}`.padEnd(65, 'z') }))
          .status,
      );
      statuses.push((await post(`{"tokenInfo": {"dpan": "${PAN}"}, "secret": "${SECRET}"`, validHeaders())).status);
      statuses.push(
        (await post(JSON.stringify({ ...validBody(vc), tokenInfo: { dpan: PAN }, note: SECRET }), { ...validHeaders(), 'x-issuer-id': 'ISSUER0002' })).status,
      );
      statuses.push(
        (await post(JSON.stringify({ ...validBody(vc), tokenInfo: { dpan: PAN }, note: SECRET }), { ...validHeaders(), 'content-type': 'text/plain' })).status,
      );
      statuses.push((await post(JSON.stringify({ ...validBody(vc), tokenInfo: { dpan: PAN }, note: SECRET.repeat(2000) }), validHeaders())).status);
    });
    expect(statuses).toEqual([400, 400, 400, 403, 415, 413]);

    expect(output).not.toContain(SECRET);
    expect(output).not.toContain('S3CR3T');
    expect(output).not.toContain(PAN);

    const rejections = output
      .split('\n')
      .filter((line) => line.includes('request rejected'))
      .map((line) => JSON.parse(line) as { level: string; message: string; fields?: unknown; status: number });
    expect(rejections.map((r) => r.status)).toEqual([400, 400, 400, 403, 415, 413]);
    for (const r of rejections) expect(r.level).toBe('WARN');
    expect(rejections[0]!.fields).toEqual(expect.arrayContaining(['issuerCardRefId', 'errorCode', 'source', 'tokenInfo', 'walletProviderId']));
    expect(rejections[1]!.fields).toEqual(['headers.x-correlation-id']);
    expect(rejections[2]!.fields).toEqual(['']);
    for (const r of rejections) {
      if (r.fields !== undefined) for (const f of r.fields as unknown[]) expect(typeof f).toBe('string');
    }
    await expectNothingWritten(vc);
  });
});
