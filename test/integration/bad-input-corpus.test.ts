import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { HTTP_ROUTES } from '../../lambdas/topology';
import { spyOnConsumers } from '../support/consumers';
import { isEmpty, queueDepths as allQueueDepths, type QueueDepth } from '../support/queues';
import { eventually, useTestStack, TEST_ENV } from '../support/stack';

/**
 * The bad-input corpus: ≥ 200 malformed requests over EVERY route of HTTP_ROUTES plus unknown
 * paths and methods, driven through the real gateway as one table. For each case: the DESIGN §3 status, the §3
 * error body (`{ error: { code, message, fields? } }`, `application/json`), the exact set of `fields[].path` for
 * 400s, `allow` for 405s, and never a 5xx. Around the whole corpus: a full table Scan, the depth of every queue
 * (and DLQ) and what the three consumers were handed are compared before and after — nothing may change.
 *
 * Breadth over depth: the two webhooks' own suites (issuer-callbacks-bad-input, network-tokens) test the check
 * order and field rules one by one; this corpus adds the variants they do not (unicode tricks, prototype keys,
 * nesting, byte-level limits, auth spellings, query parameters, path parameters, methods) on every route.
 *
 * One issuer token and one network token are seeded through valid webhook calls first, so the read routes and
 * Create Transaction are exercised against records that exist (and must stay byte-identical).
 */

const CB = '/issuer/igwapi/v2.0/notifyVirtualCardChange';
const TU = '/tsh-cof/notify-token-update';
const OPS = '/v1/lcm-operations';
const MAX_BODY = 64 * 1024;

const SEED_VC = 'vc-corpus-seed';
const SEED_CARD = 'card-corpus-seed';
const SEED_NT = 'nt-corpus-seed';

// ---------------------------------------------------------------------------------------------------------
// the case table

type HeaderList = [string, string][];

interface Case {
  /** The route (or "unknown path") the case targets, for the per-route count. */
  route: string;
  name: string;
  method: string;
  /** Raw path and query, sent as is. */
  path: string;
  headers?: HeaderList;
  body?: string | Uint8Array;
  status: number;
  code: string;
  /** 400 only: the exact set of `fields[].path`. */
  fields?: string[];
  /** 405 only: the `allow` header. */
  allow?: string;
}

const cases: Case[] = [];
const add = (route: string, c: Omit<Case, 'route'>): void => {
  cases.push({ route, ...c });
};

const J = (value: unknown): string => JSON.stringify(value);
const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'utf8') : Buffer.from(part))));
const b64url = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Headers from a base with overrides; `null` removes a header. */
function hdrs(base: Record<string, string>, over: Record<string, string | null> = {}): HeaderList {
  const merged: Record<string, string | null> = { ...base, ...over };
  return Object.entries(merged).filter((entry): entry is [string, string] => entry[1] !== null);
}

/** `value` serialised with an extra `padding` field so the body is exactly `size` bytes of UTF-8. */
function paddedTo(value: Record<string, unknown>, size: number): string {
  const base = Buffer.byteLength(J({ ...value, padding: '' }));
  const body = J({ ...value, padding: 'p'.repeat(size - base) });
  if (Buffer.byteLength(body) !== size) throw new Error('padding arithmetic');
  return body;
}

/** `n` levels of nested arrays, `[[[…]]]`. */
const nestedArrays = (n: number): string => '['.repeat(n) + ']'.repeat(n);
/** `n` levels of nested objects, `{"a":{"a":…1…}}`. */
const nestedObjects = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

const CYRILLIC_E = '\u0415'; // looks like Latin E
const CYRILLIC_A = '\u0410'; // looks like Latin A
const ZWJ = '\u200d';
const ZWSP = '\u200b';
const RLO = '\u202e';
const FULLWIDTH_1234 = '\uff11\uff12\uff13\uff14'; // １２３４
const ARABIC_INDIC_1234 = '\u0661\u0662\u0663\u0664'; // ١٢٣٤

// --- shared rejections every JSON-body POST route gets: media type, size, JSON shape ----------------------

interface BodyRoute {
  route: string;
  path: string;
  /** Valid headers (content-type application/json and auth included). */
  headers: Record<string, string>;
  /** Fields the route requires, i.e. what `{}` is missing. */
  required: string[];
}

function bodyRouteCommon(r: BodyRoute): void {
  const h = (over: Record<string, string | null> = {}): HeaderList => hdrs(r.headers, over);
  const missingAll = r.required;
  // media type (§3: not JSON → 415, before auth and before JSON)
  for (const contentType of [
    'text/plain; charset=utf-8',
    'multipart/form-data; boundary=xyz',
    'application/octet-stream',
    'text/json',
    'application/jsonx',
    'application/json5',
    'json',
  ]) {
    add(r.route, {
      name: `content-type ${contentType} → 415`,
      method: 'POST',
      path: r.path,
      headers: h({ 'content-type': contentType }),
      body: '{}',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
  }
  add(r.route, {
    name: 'a JSON body without content-type → 415',
    method: 'POST',
    path: r.path,
    headers: h({ 'content-type': null }),
    body: bytes('{}'),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  });
  // JSON by our rule: application/*+json, parameters and case ignored → on to the schema
  for (const contentType of ['application/json-patch+json', 'APPLICATION/VND.API+JSON; charset=utf-8']) {
    add(r.route, {
      name: `content-type ${contentType} is JSON: {} → 400 naming the required fields`,
      method: 'POST',
      path: r.path,
      headers: h({ 'content-type': contentType }),
      body: '{}',
      status: 400,
      code: 'VALIDATION_FAILED',
      fields: missingAll,
    });
  }
  // size (§3: over 64 KiB → 413 before anything else; exactly 64 KiB is never 413)
  add(r.route, {
    name: 'JSON body of 64 KiB + 1 → 413',
    method: 'POST',
    path: r.path,
    headers: h(),
    body: paddedTo({}, MAX_BODY + 1),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  });
  add(r.route, {
    name: 'exactly 64 KiB, schema-invalid → 400, never 413',
    method: 'POST',
    path: r.path,
    headers: h(),
    body: paddedTo({}, MAX_BODY),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: missingAll,
  });
  add(r.route, {
    name: '40 000 × "é" (< 64 Ki characters, > 64 KiB bytes) → 413',
    method: 'POST',
    path: r.path,
    headers: h(),
    body: J({ x: '\u00e9'.repeat(40_000) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  });
  add(r.route, {
    name: 'binary (octet-stream) body over 64 KiB → 413, not 415',
    method: 'POST',
    path: r.path,
    headers: h({ 'content-type': 'application/octet-stream' }),
    body: new Uint8Array(MAX_BODY + 10).fill(0xab),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  });
  // malformed and non-object JSON (§3: 400 with fields [{ path: "" }])
  const malformed: [string, string | Uint8Array][] = [
    ['JSON true', 'true'],
    ['JSON null', 'null'],
    ['a JSON number', '-0.5e3'],
    ['a JSON array holding an object', '[{}]'],
    ['an empty JSON array', '[]'],
    ['a JSON string holding an object', J('{}')],
    ['trailing garbage after an object', '{}x'],
    ['single-quoted keys', "{'a': 1}"],
    ['a NaN literal', '{"a": NaN}'],
    ['a comment', '{/* c */}'],
    ['whitespace only', '   \n\t'],
    ['invalid UTF-8 bytes only', bytes([0xff, 0xfe, 0xfd])],
    ['UTF-16LE-encoded JSON', Buffer.from('{"a":1}', 'utf16le')],
    ['a lone UTF-8 continuation byte before the object', bytes([0x80], '{}')],
    [`arrays nested 10 000 deep`, nestedArrays(10_000)],
    [`an unterminated object 10 000 deep`, '{"a":'.repeat(10_000)],
  ];
  for (const [label, body] of malformed) {
    add(r.route, { name: `${label} → 400 path ""`, method: 'POST', path: r.path, headers: h(), body, status: 400, code: 'VALIDATION_FAILED', fields: [''] });
  }
  // objects that are JSON objects but nothing the route needs
  add(r.route, {
    name: 'objects nested 10 000 deep (an object, none of the required fields) → 400',
    method: 'POST',
    path: r.path,
    headers: h(),
    body: nestedObjects(10_000),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: missingAll,
  });
  add(r.route, {
    name: '__proto__ carrying every required field → 400 naming them (no prototype pollution)',
    method: 'POST',
    path: r.path,
    headers: h(),
    body: `{"__proto__": ${J(Object.fromEntries(missingAll.map((f) => [f, 'x'])))}, "polluted": 1}`,
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: missingAll,
  });
  add(r.route, {
    name: 'constructor.prototype carrying every required field → 400 naming them',
    method: 'POST',
    path: r.path,
    headers: h(),
    body: J({ constructor: { prototype: Object.fromEntries(missingAll.map((f) => [f, 'x'])) } }),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: missingAll,
  });
  add(r.route, {
    name: 'a top-level "prototype" key carrying every required field → 400 naming them',
    method: 'POST',
    path: r.path,
    headers: h(),
    body: J({ prototype: Object.fromEntries(missingAll.map((f) => [f, 'x'])) }),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: missingAll,
  });
  add(r.route, {
    name: 'a lone-surrogate key "\\ud800" and a NUL key → 400 naming the required fields',
    method: 'POST',
    path: r.path,
    headers: h(),
    body: '{"\\ud800": 1, "\\u0000": 2}',
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: missingAll,
  });
}

// --- POST /issuer/igwapi/v2.0/notifyVirtualCardChange -------------------------------------------------------
{
  const route = 'POST notifyVirtualCardChange';
  const base = { 'content-type': 'application/json', 'x-correlation-id': 'corpus-cid-1', 'x-issuer-id': TEST_ENV.ISSUER_ID };
  const h = (over: Record<string, string | null> = {}): HeaderList => hdrs(base, over);
  const body = (over: Record<string, unknown> = {}): string =>
    J(
      Object.fromEntries(
        Object.entries({ issuerCardRefId: 'card-corpus-x', virtualCardId: 'vc-corpus-x', action: 'ACTIVATE', ...over }).filter(([, v]) => v !== undefined),
      ),
    );
  const bad = (name: string, over: Record<string, unknown>, fields: string[]): void =>
    add(route, {
      name: `${name} → 400 ${fields.join(', ')}`,
      method: 'POST',
      path: CB,
      headers: h(),
      body: body(over),
      status: 400,
      code: 'VALIDATION_FAILED',
      fields,
    });

  bodyRouteCommon({ route, path: CB, headers: base, required: ['issuerCardRefId', 'virtualCardId', 'action'] });

  bad('issuerCardRefId as a number', { issuerCardRefId: 123 }, ['issuerCardRefId']);
  bad('virtualCardId as a boolean', { virtualCardId: true }, ['virtualCardId']);
  bad('virtualCardId null', { virtualCardId: null }, ['virtualCardId']);
  bad('action null', { action: null }, ['action']);
  bad('action as an array', { action: ['ACTIVATE'] }, ['action']);
  bad('action as an object', { action: { value: 'ACTIVATE' } }, ['action']);
  bad('action of 32 letters + a zero-width joiner (33 chars)', { action: 'A'.repeat(32) + ZWJ }, ['action']);
  bad('virtualCardId of 1 000 chars', { virtualCardId: 'v'.repeat(1000) }, ['virtualCardId']);
  bad('issuerCardRefId of 48 chars + an RTL override', { issuerCardRefId: 'c'.repeat(48) + RLO }, ['issuerCardRefId']);
  bad('errorCode as an object', { errorCode: {} }, ['errorCode']);
  bad('errorCode as an array [221]', { errorCode: [221] }, ['errorCode']);
  bad('errorCode full-width "２２１"', { errorCode: '\uff12\uff12\uff11' }, ['errorCode']);
  add(route, {
    name: 'errorCode 1e400 (parses to Infinity) → 400 errorCode',
    method: 'POST',
    path: CB,
    headers: h(),
    body: body().replace(/}$/, ', "errorCode": 1e400}'),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['errorCode'],
  });
  bad('walletProviderId empty', { walletProviderId: '' }, ['walletProviderId']);
  bad('walletProviderId of 129 chars', { walletProviderId: 'w'.repeat(129) }, ['walletProviderId']);
  bad('walletProviderId as a number', { walletProviderId: 42 }, ['walletProviderId']);
  bad('isPrimary as the string "true"', { isPrimary: 'true' }, ['isPrimary']);
  bad('isPrimary as 1', { isPrimary: 1 }, ['isPrimary']);
  bad('source as a number', { source: 7 }, ['source']);
  bad('source as an object', { source: { name: 'WALLET' } }, ['source']);
  bad('tokenStorageId of 129 chars', { tokenStorageId: 't'.repeat(129) }, ['tokenStorageId']);
  bad('walletCardRefId as an array', { walletCardRefId: [] }, ['walletCardRefId']);
  bad('walletVirtualCardId empty', { walletVirtualCardId: '' }, ['walletVirtualCardId']);
  bad('tokenInfo true', { tokenInfo: true }, ['tokenInfo']);
  bad(
    'every optional field of the wrong type at once',
    { walletProviderId: 1, errorCode: 'x', source: [], isPrimary: 'no', tokenStorageId: {}, walletCardRefId: 2, walletVirtualCardId: false, tokenInfo: 3 },
    ['walletProviderId', 'errorCode', 'source', 'isPrimary', 'tokenStorageId', 'walletCardRefId', 'walletVirtualCardId', 'tokenInfo'],
  );
  add(route, {
    name: 'duplicate key: the last "action" (a number) wins → 400 action',
    method: 'POST',
    path: CB,
    headers: h(),
    body: '{"issuerCardRefId":"c","virtualCardId":"v","action":"ACTIVATE","action":5}',
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['action'],
  });
  add(route, {
    name: 'tokenInfo.__proto__ nested, action missing → 400 action',
    method: 'POST',
    path: CB,
    headers: h(),
    body: '{"issuerCardRefId":"c","virtualCardId":"v","tokenInfo":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}}',
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['action'],
  });
  add(route, {
    name: 'tokenInfo nested 10 000 deep, action missing → 400 action',
    method: 'POST',
    path: CB,
    headers: h(),
    body: `{"issuerCardRefId":"c","virtualCardId":"v","tokenInfo":${nestedObjects(10_000)}}`,
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['action'],
  });
  add(route, {
    name: 'invalid UTF-8 inside a string, action missing → 400 action',
    method: 'POST',
    path: CB,
    headers: h(),
    body: bytes('{"issuerCardRefId":"c', [0xc3, 0x28], '","virtualCardId":"v', [0xed, 0xa0, 0x80], '"}'),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['action'],
  });
  // headers
  add(route, {
    name: 'x-issuer-id empty → 400 headers.x-issuer-id',
    method: 'POST',
    path: CB,
    headers: h({ 'x-issuer-id': '' }),
    body: body(),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['headers.x-issuer-id'],
  });
  add(route, {
    name: 'x-issuer-id sent twice (joined, 22 chars) → 400 headers.x-issuer-id',
    method: 'POST',
    path: CB,
    headers: [...h(), ['x-issuer-id', TEST_ENV.ISSUER_ID]],
    body: body(),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['headers.x-issuer-id'],
  });
  add(route, {
    name: 'x-issuer-id of 100 chars → 400 headers.x-issuer-id',
    method: 'POST',
    path: CB,
    headers: h({ 'x-issuer-id': 'I'.repeat(100) }),
    body: body(),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['headers.x-issuer-id'],
  });
  add(route, {
    name: 'x-issuer-id in lower case (well-formed, not ours) → 403',
    method: 'POST',
    path: CB,
    headers: h({ 'x-issuer-id': TEST_ENV.ISSUER_ID.toLowerCase() }),
    body: body(),
    status: 403,
    code: 'FORBIDDEN',
  });
  add(route, {
    name: 'x-issuer-id "ISSUER 001" (10 chars, inner space) → 403',
    method: 'POST',
    path: CB,
    headers: h({ 'x-issuer-id': 'ISSUER 001' }),
    body: body(),
    status: 403,
    code: 'FORBIDDEN',
  });
  add(route, {
    name: 'another issuer + a JSON array body → 403 (auth before JSON)',
    method: 'POST',
    path: CB,
    headers: h({ 'x-issuer-id': 'ISSUER0002' }),
    body: '[]',
    status: 403,
    code: 'FORBIDDEN',
  });
  add(route, {
    name: 'another issuer + no x-correlation-id → 403 (auth before the header schema)',
    method: 'POST',
    path: CB,
    headers: h({ 'x-issuer-id': 'ISSUER0002', 'x-correlation-id': null }),
    body: body(),
    status: 403,
    code: 'FORBIDDEN',
  });
  add(route, {
    name: 'another issuer + multipart → 415 (media type before auth)',
    method: 'POST',
    path: CB,
    headers: h({ 'x-issuer-id': 'ISSUER0002', 'content-type': 'multipart/form-data; boundary=x' }),
    body: body(),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  });
  add(route, {
    name: 'x-correlation-id empty → 400 headers.x-correlation-id',
    method: 'POST',
    path: CB,
    headers: h({ 'x-correlation-id': '' }),
    body: body(),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['headers.x-correlation-id'],
  });
  add(route, {
    name: 'no headers but content-type, body {} → 400 naming both headers and the three fields',
    method: 'POST',
    path: CB,
    headers: h({ 'x-correlation-id': null, 'x-issuer-id': null }),
    body: '{}',
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['headers.x-correlation-id', 'headers.x-issuer-id', 'issuerCardRefId', 'virtualCardId', 'action'],
  });
  add(route, {
    name: 'no body and no content-type → 400 path ""',
    method: 'POST',
    path: CB,
    headers: h({ 'content-type': null }),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: [''],
  });
}

// --- POST /tsh-cof/notify-token-update ---------------------------------------------------------------------
{
  const route = 'POST notify-token-update';
  const base = { 'content-type': 'application/json', authorization: `APIKEY ${TEST_ENV.TR_API_KEY}`, 'x-correlation-id': 'corpus-cid-2' };
  const h = (over: Record<string, string | null> = {}): HeaderList => hdrs(base, over);
  const body = (over: Record<string, unknown> = {}): string =>
    J(
      Object.fromEntries(
        Object.entries({ tokenId: 'nt-corpus-x', merchantId: 'm-corpus', lastUpdateTimestamp: '2026-03-01T08:00:00Z', ...over }).filter(
          ([, v]) => v !== undefined,
        ),
      ),
    );
  const bad = (name: string, over: Record<string, unknown>, fields: string[]): void =>
    add(route, {
      name: `${name} → 400 ${fields.join(', ')}`,
      method: 'POST',
      path: TU,
      headers: h(),
      body: body(over),
      status: 400,
      code: 'VALIDATION_FAILED',
      fields,
    });

  bodyRouteCommon({ route, path: TU, headers: base, required: ['tokenId', 'merchantId', 'lastUpdateTimestamp'] });

  // authentication: APIKEY spellings (401), and its place in the check order
  const authVariants: [string, string | null][] = [
    ['no authorization', null],
    ['an empty authorization', ''],
    ['"APIKEY" alone', 'APIKEY'],
    ['no space after APIKEY', `APIKEY${TEST_ENV.TR_API_KEY}`],
    ['the key upper-cased', `APIKEY ${TEST_ENV.TR_API_KEY.toUpperCase()}`],
    ['the key one character short', `APIKEY ${TEST_ENV.TR_API_KEY.slice(0, -1)}`],
    ['the key quoted', `APIKEY "${TEST_ENV.TR_API_KEY}"`],
    ['the key followed by another token', `APIKEY ${TEST_ENV.TR_API_KEY} extra`],
    ['the bare key, no scheme', TEST_ENV.TR_API_KEY],
    ['Basic with the key', `Basic ${Buffer.from(`x:${TEST_ENV.TR_API_KEY}`).toString('base64')}`],
    ['a scheme of "APIKEYS"', `APIKEYS ${TEST_ENV.TR_API_KEY}`],
    ['the right key sent twice (joined)', `APIKEY ${TEST_ENV.TR_API_KEY}, APIKEY ${TEST_ENV.TR_API_KEY}`],
  ];
  for (const [label, authorization] of authVariants) {
    add(route, { name: `${label} → 401`, method: 'POST', path: TU, headers: h({ authorization }), body: body(), status: 401, code: 'UNAUTHORIZED' });
  }
  add(route, {
    name: 'wrong key + JSON null → 401 (auth before JSON)',
    method: 'POST',
    path: TU,
    headers: h({ authorization: 'APIKEY nope' }),
    body: 'null',
    status: 401,
    code: 'UNAUTHORIZED',
  });
  add(route, {
    name: 'no key + no x-correlation-id + empty object → 401 (auth before schema)',
    method: 'POST',
    path: TU,
    headers: h({ authorization: null, 'x-correlation-id': null }),
    body: '{}',
    status: 401,
    code: 'UNAUTHORIZED',
  });
  add(route, {
    name: 'no key + multipart → 415 (media type before auth)',
    method: 'POST',
    path: TU,
    headers: h({ authorization: null, 'content-type': 'multipart/form-data; boundary=x' }),
    body: body(),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  });
  add(route, {
    name: 'no key + 64 KiB + 1 of text → 413 (size before everything)',
    method: 'POST',
    path: TU,
    headers: h({ authorization: null, 'content-type': 'text/plain' }),
    body: 'x'.repeat(MAX_BODY + 1),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  });
  // required fields
  bad('tokenId as a number', { tokenId: 0 }, ['tokenId']);
  bad('tokenId empty', { tokenId: '' }, ['tokenId']);
  bad('tokenId null', { tokenId: null }, ['tokenId']);
  bad('merchantId of 129 chars', { merchantId: 'm'.repeat(129) }, ['merchantId']);
  bad('merchantId as an object', { merchantId: {} }, ['merchantId']);
  // dates
  const badInstants: [string, unknown][] = [
    ['30 February', '2026-02-30T08:00:00Z'],
    ['29 February of a common year', '2025-02-29T08:00:00Z'],
    ['hour 24', '2026-03-01T24:00:00Z'],
    ['minute 60', '2026-03-01T08:60:00Z'],
    ['no zone (local time)', '2026-03-01T08:00:00'],
    ['a space instead of T', '2026-03-01 08:00:00Z'],
    ['offset +25:00', '2026-03-01T08:00:00+25:00'],
    ['a dot without fraction', '2026-03-01T08:00:00.Z'],
    ['an expanded year', '+002026-03-01T08:00:00Z'],
    ['full-width digits', '\uff12\uff10\uff12\uff16-03-01T08:00:00Z'],
    ['an RTL override inside', `2026-03-01T08:00${RLO}:00Z`],
    ['a trailing NUL', '2026-03-01T08:00:00Z\u0000'],
    ['empty', ''],
    ['a boolean', true],
    ['a date object shape', { $date: '2026-03-01T08:00:00Z' }],
  ];
  for (const [label, value] of badInstants) bad(`lastUpdateTimestamp ${label}`, { lastUpdateTimestamp: value }, ['lastUpdateTimestamp']);
  // enums
  bad('tokenState "SUSP\u0415NDED" with a Cyrillic Е', { tokenState: `SUSP${CYRILLIC_E}NDED` }, ['tokenState']);
  bad('tokenState "\u0410CTIVE" with a Cyrillic А', { tokenState: `${CYRILLIC_A}CTIVE` }, ['tokenState']);
  bad('tokenState with a trailing zero-width space', { tokenState: `ACTIVE${ZWSP}` }, ['tokenState']);
  bad('tokenState "Active"', { tokenState: 'Active' }, ['tokenState']);
  bad('tokenState as a number', { tokenState: 1 }, ['tokenState']);
  // digit fields
  bad('tokenLastDigits full-width "１２３４"', { tokenLastDigits: FULLWIDTH_1234 }, ['tokenLastDigits']);
  bad('tokenLastDigits Arabic-Indic "١٢٣٤"', { tokenLastDigits: ARABIC_INDIC_1234 }, ['tokenLastDigits']);
  bad('tokenLastDigits with a zero-width joiner', { tokenLastDigits: `12${ZWJ}34` }, ['tokenLastDigits']);
  bad('tokenLastDigits empty', { tokenLastDigits: '' }, ['tokenLastDigits']);
  bad('tokenLastDigits "-123"', { tokenLastDigits: '-123' }, ['tokenLastDigits']);
  bad('tokenLastDigits with a trailing newline', { tokenLastDigits: '1234\n' }, ['tokenLastDigits']);
  bad('cardLastDigits behind an RTL override', { cardLastDigits: `${RLO}4321` }, ['cardLastDigits']);
  bad('cardLastDigits with a NUL', { cardLastDigits: '12\u000034' }, ['cardLastDigits']);
  bad('cardBin with a full-width last digit', { cardBin: '45342\uff11' }, ['cardBin']);
  bad('cardBin with a space', { cardBin: '4534 21' }, ['cardBin']);
  bad('cardBin "0x1234"', { cardBin: '0x1234' }, ['cardBin']);
  bad('cardBin as a lone surrogate', { cardBin: '\ud800' }, ['cardBin']);
  bad('tokenExpiryDate "12/28"', { tokenExpiryDate: '12/28' }, ['tokenExpiryDate']);
  bad('tokenExpiryDate as the number 1228', { tokenExpiryDate: 1228 }, ['tokenExpiryDate']);
  bad('tokenExpiryDate full-width "１２２８"', { tokenExpiryDate: '\uff11\uff12\uff12\uff18' }, ['tokenExpiryDate']);
  bad('tokenExpiryDate of 5 digits', { tokenExpiryDate: '12280' }, ['tokenExpiryDate']);
  bad('cardExpiryDate month 00', { cardExpiryDate: '0027' }, ['cardExpiryDate']);
  bad('cardExpiryDate "1a28"', { cardExpiryDate: '1a28' }, ['cardExpiryDate']);
  bad('par empty', { par: '' }, ['par']);
  bad('par as a number', { par: 123 }, ['par']);
  bad('cardArt as an array', { cardArt: [] }, ['cardArt']);
  bad('cardArt true', { cardArt: true }, ['cardArt']);
  add(route, {
    name: 'cardArt nested 10 000 deep (over 8 KiB serialised) → 400 cardArt, no 5xx',
    method: 'POST',
    path: TU,
    headers: h(),
    body: body().replace(/}$/, `, "cardArt": {"x": ${nestedArrays(10_000)}}}`),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['cardArt'],
  });
  add(route, {
    name: 'cardArt nested 1 000 deep and tokenId missing → 400 tokenId, cardArt',
    method: 'POST',
    path: TU,
    headers: h(),
    body: `{"merchantId":"m","lastUpdateTimestamp":"2026-03-01T08:00:00Z","cardArt":{"x":${nestedArrays(1_000)},"pad":"${'p'.repeat(9000)}"}}`,
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['tokenId', 'cardArt'],
  });
  add(route, {
    name: 'cardArt.__proto__ nested and merchantId missing → 400 merchantId',
    method: 'POST',
    path: TU,
    headers: h(),
    body: '{"tokenId":"t","lastUpdateTimestamp":"2026-03-01T08:00:00Z","cardArt":{"__proto__":{"polluted":1}}}',
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['merchantId'],
  });
  bad(
    'every optional field wrong at once',
    {
      tokenState: 'x',
      tokenLastDigits: 1,
      tokenExpiryDate: '1300',
      cardLastDigits: 'abc',
      cardExpiryDate: '',
      cardBin: '1',
      par: 'p'.repeat(30),
      cardArt: 'art',
    },
    ['tokenState', 'tokenLastDigits', 'tokenExpiryDate', 'cardLastDigits', 'cardExpiryDate', 'cardBin', 'par', 'cardArt'],
  );
  add(route, {
    name: 'x-correlation-id empty → 400 headers.x-correlation-id',
    method: 'POST',
    path: TU,
    headers: h({ 'x-correlation-id': '' }),
    body: body(),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['headers.x-correlation-id'],
  });
  add(route, {
    name: 'no x-correlation-id and {} → 400 naming the header and the three fields',
    method: 'POST',
    path: TU,
    headers: h({ 'x-correlation-id': null }),
    body: '{}',
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['headers.x-correlation-id', 'tokenId', 'merchantId', 'lastUpdateTimestamp'],
  });
}

// --- POST /v1/lcm-operations -------------------------------------------------------------------------------
{
  const route = 'POST /v1/lcm-operations';
  const base = { 'content-type': 'application/json' };
  const h = (over: Record<string, string | null> = {}): HeaderList => hdrs(base, over);
  const body = (over: Record<string, unknown> = {}): string =>
    J(Object.fromEntries(Object.entries({ action: 'SUSPEND', issuerCardRefId: 'card-corpus-op', ...over }).filter(([, v]) => v !== undefined)));
  const bad = (name: string, over: Record<string, unknown>, fields: string[], headers: HeaderList = h()): void =>
    add(route, {
      name: `${name} → 400 ${fields.join(', ')}`,
      method: 'POST',
      path: OPS,
      headers,
      body: body(over),
      status: 400,
      code: 'VALIDATION_FAILED',
      fields,
    });

  bodyRouteCommon({ route, path: OPS, headers: base, required: ['action', 'issuerCardRefId'] });

  bad('action "suspend"', { action: 'suspend' }, ['action']);
  bad('action "SUSP\u0415ND" with a Cyrillic Е', { action: `SUSP${CYRILLIC_E}ND` }, ['action']);
  bad('action "R\u0415SUME" with a Cyrillic Е', { action: `R${CYRILLIC_E}SUME` }, ['action']);
  bad('action with a zero-width space', { action: `SUSPEND${ZWSP}` }, ['action']);
  bad('action with a leading space', { action: ' SUSPEND' }, ['action']);
  bad('action ACTIVATE (a callback action, not an LCM one)', { action: 'ACTIVATE' }, ['action']);
  bad('action DELETE_FROM_APP', { action: 'DELETE_FROM_APP' }, ['action']);
  bad('action as a number', { action: 1 }, ['action']);
  bad('action null', { action: null }, ['action']);
  bad('action as an array', { action: ['SUSPEND'] }, ['action']);
  bad('issuerCardRefId empty', { issuerCardRefId: '' }, ['issuerCardRefId']);
  bad('issuerCardRefId of 49 chars', { issuerCardRefId: 'c'.repeat(49) }, ['issuerCardRefId']);
  bad('issuerCardRefId of 48 chars + a zero-width joiner', { issuerCardRefId: 'c'.repeat(48) + ZWJ }, ['issuerCardRefId']);
  bad('issuerCardRefId as a number', { issuerCardRefId: 123 }, ['issuerCardRefId']);
  bad('issuerCardRefId null', { issuerCardRefId: null }, ['issuerCardRefId']);
  bad('virtualCardId empty', { virtualCardId: '' }, ['virtualCardId']);
  bad('virtualCardId of 65 chars', { virtualCardId: 'v'.repeat(65) }, ['virtualCardId']);
  bad('virtualCardId null (optional, not nullable)', { virtualCardId: null }, ['virtualCardId']);
  bad('virtualCardId as a number', { virtualCardId: 42 }, ['virtualCardId']);
  bad('reason empty', { reason: '' }, ['reason']);
  bad('reason of 257 chars', { reason: 'r'.repeat(257) }, ['reason']);
  bad('reason as an object', { reason: {} }, ['reason']);
  bad('idempotency-key empty', {}, ['headers.idempotency-key'], h({ 'idempotency-key': '' }));
  bad('idempotency-key of 129 chars', {}, ['headers.idempotency-key'], h({ 'idempotency-key': 'k'.repeat(129) }));
  bad(
    'idempotency-key of 129 chars and every body field wrong',
    { action: 'x', issuerCardRefId: '', virtualCardId: '', reason: '' },
    ['headers.idempotency-key', 'action', 'issuerCardRefId', 'virtualCardId', 'reason'],
    h({ 'idempotency-key': 'k'.repeat(129) }),
  );
  add(route, {
    name: 'unknown field nested 10 000 deep and action missing → 400 action',
    method: 'POST',
    path: OPS,
    headers: h(),
    body: `{"issuerCardRefId":"c","deep":${nestedArrays(10_000)}}`,
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['action'],
  });
  add(route, {
    name: 'duplicate key: the last "action" ("suspend") wins → 400 action',
    method: 'POST',
    path: OPS,
    headers: h(),
    body: '{"action":"SUSPEND","issuerCardRefId":"c","action":"suspend"}',
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['action'],
  });
}

// --- POST /v1/network-tokens/{tokenId}/transactions --------------------------------------------------------
{
  const route = 'POST /v1/network-tokens/{tokenId}/transactions';
  const path = `/v1/network-tokens/${SEED_NT}/transactions`;
  const base = { 'content-type': 'application/json' };
  const h = (over: Record<string, string | null> = {}): HeaderList => hdrs(base, over);
  const bad = (name: string, value: unknown, fields: string[] = ['transactionType']): void =>
    add(route, {
      name: `${name} → 400 ${fields.join(', ')}`,
      method: 'POST',
      path,
      headers: h(),
      body: J({ transactionType: value }),
      status: 400,
      code: 'VALIDATION_FAILED',
      fields,
    });

  bodyRouteCommon({ route, path, headers: base, required: ['transactionType'] });

  bad('transactionType empty', '');
  bad('transactionType of 65 chars', 'T'.repeat(65));
  bad('transactionType as a number', 1);
  bad('transactionType null', null);
  bad('transactionType as an array', ['SINGLE']);
  bad('transactionType as an object', { type: 'SINGLE' });
  add(route, {
    name: 'unknown token, valid body → 404 (nothing sent to D1, nothing stored)',
    method: 'POST',
    path: '/v1/network-tokens/nt-corpus-unknown/transactions',
    headers: h(),
    body: J({ transactionType: 'SINGLE' }),
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, {
    name: 'tokenId of 129 chars, valid body → 404, never 400',
    method: 'POST',
    path: `/v1/network-tokens/${'t'.repeat(129)}/transactions`,
    headers: h(),
    body: J({ transactionType: 'SINGLE' }),
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, {
    name: 'tokenId of 129 chars, schema-invalid body → 404, never 400',
    method: 'POST',
    path: `/v1/network-tokens/${'t'.repeat(129)}/transactions`,
    headers: h(),
    body: '{}',
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, {
    name: 'the seeded tokenId upper-cased, valid body → 404',
    method: 'POST',
    path: `/v1/network-tokens/${SEED_NT.toUpperCase()}/transactions`,
    headers: h(),
    body: J({ transactionType: 'SINGLE' }),
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, {
    name: 'the seeded tokenId + %E2%80%8D (zero-width joiner), valid body → 404',
    method: 'POST',
    path: `/v1/network-tokens/${SEED_NT}%E2%80%8D/transactions`,
    headers: h(),
    body: J({ transactionType: 'SINGLE' }),
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, { name: 'GET → 405 allow POST', method: 'GET', path, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'POST' });
  add(route, {
    name: 'PUT → 405 allow POST',
    method: 'PUT',
    path,
    headers: h(),
    body: J({ transactionType: 'SINGLE' }),
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    allow: 'POST',
  });
  add(route, {
    name: '…/Transactions (wrong case) → 404',
    method: 'POST',
    path: `/v1/network-tokens/${SEED_NT}/Transactions`,
    headers: h(),
    body: J({ transactionType: 'SINGLE' }),
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, {
    name: '…/transactions/ (trailing slash) → 404',
    method: 'POST',
    path: `${path}/`,
    headers: h(),
    body: J({ transactionType: 'SINGLE' }),
    status: 404,
    code: 'NOT_FOUND',
  });
}

// --- POST /v1/cards/{issuerCardRefId}/reconcile (no body) --------------------------------------------------
{
  const route = 'POST /v1/cards/{issuerCardRefId}/reconcile';
  add(route, {
    name: 'issuerCardRefId of 49 chars → 404, never 400',
    method: 'POST',
    path: `/v1/cards/${'c'.repeat(49)}/reconcile`,
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, { name: 'issuerCardRefId of 5 000 chars → 404', method: 'POST', path: `/v1/cards/${'c'.repeat(5000)}/reconcile`, status: 404, code: 'NOT_FOUND' });
  add(route, { name: 'an empty issuerCardRefId (//) → 404', method: 'POST', path: '/v1/cards//reconcile', status: 404, code: 'NOT_FOUND' });
  add(route, {
    name: 'body over 64 KiB → 413',
    method: 'POST',
    path: `/v1/cards/${SEED_CARD}/reconcile`,
    headers: [['content-type', 'application/json']],
    body: paddedTo({}, MAX_BODY + 1),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  });
  add(route, {
    name: 'a text/plain body → 415 (§3: a body whose media type is not JSON)',
    method: 'POST',
    path: `/v1/cards/${SEED_CARD}/reconcile`,
    headers: [['content-type', 'text/plain']],
    body: 'reconcile please',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  });
  for (const method of ['GET', 'PUT', 'DELETE']) {
    add(route, {
      name: `${method} → 405 allow POST`,
      method,
      path: `/v1/cards/${SEED_CARD}/reconcile`,
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      allow: 'POST',
    });
  }
  add(route, { name: '…/Reconcile (wrong case) → 404', method: 'POST', path: `/v1/cards/${SEED_CARD}/Reconcile`, status: 404, code: 'NOT_FOUND' });
  add(route, { name: '/v1/Cards/…/reconcile (wrong case) → 404', method: 'POST', path: `/v1/Cards/${SEED_CARD}/reconcile`, status: 404, code: 'NOT_FOUND' });
}

// --- GET /v1/lcm-operations/{operationId} ------------------------------------------------------------------
{
  const route = 'GET /v1/lcm-operations/{operationId}';
  const notFound = (name: string, id: string): void =>
    add(route, { name: `${name} → 404`, method: 'GET', path: `${OPS}/${id}`, status: 404, code: 'NOT_FOUND' });
  notFound('an unknown operation id', '00000000-0000-4000-8000-000000000000');
  notFound('an id of 65 chars', 'o'.repeat(65));
  notFound('an id of 10 000 chars', 'o'.repeat(10_000));
  notFound('a NUL id (%00)', '%00');
  notFound('an RTL override id (%E2%80%AE)', '%E2%80%AE');
  notFound('an encoded slash (a%2Fb)', 'a%2Fb');
  notFound('a full-width id', encodeURIComponent('\uff10\uff10'));
  notFound('a lone surrogate encoded as UTF-8 (%ED%A0%80)', '%ED%A0%80');
  notFound('a bare % sign', '%');
  notFound('an invalid escape %zz', '%zz');
  add(route, { name: 'trailing slash, no id → 404', method: 'GET', path: `${OPS}/`, status: 404, code: 'NOT_FOUND' });
  add(route, { name: 'an extra segment → 404', method: 'GET', path: `${OPS}/op-1/extra`, status: 404, code: 'NOT_FOUND' });
  add(route, { name: '/v1/LCM-operations/… (wrong case) → 404', method: 'GET', path: '/v1/LCM-operations/op-1', status: 404, code: 'NOT_FOUND' });
  for (const method of ['PUT', 'PATCH', 'DELETE', 'POST']) {
    add(route, { name: `${method} → 405 allow GET`, method, path: `${OPS}/op-1`, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET' });
  }
}
{
  const route = 'POST /v1/lcm-operations';
  for (const method of ['GET', 'DELETE', 'PUT']) {
    add(route, { name: `${method} → 405 allow POST`, method, path: OPS, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'POST' });
  }
  add(route, {
    name: 'trailing slash (/v1/lcm-operations/) → 404',
    method: 'POST',
    path: `${OPS}/`,
    headers: [['content-type', 'application/json']],
    body: '{}',
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, {
    name: '/V1/lcm-operations (wrong case) → 404',
    method: 'POST',
    path: '/V1/lcm-operations',
    headers: [['content-type', 'application/json']],
    body: '{}',
    status: 404,
    code: 'NOT_FOUND',
  });
}

// --- GET /v1/tokens/{virtualCardId} ----------------------------------------------------------------------
{
  const route = 'GET /v1/tokens/{virtualCardId}';
  const notFound = (name: string, id: string): void =>
    add(route, { name: `${name} → 404`, method: 'GET', path: `/v1/tokens/${id}`, status: 404, code: 'NOT_FOUND' });
  notFound('an unknown id', 'vc-corpus-unknown');
  notFound('an id of 65 chars', 'v'.repeat(65));
  notFound('the seeded id upper-cased (ids are case-sensitive)', SEED_VC.toUpperCase());
  notFound('the seeded id + a zero-width joiner', `${SEED_VC}%E2%80%8D`);
  notFound('the seeded id + an encoded space', `${SEED_VC}%20`);
  notFound('the seeded id with a Cyrillic е', `vc-corpus-s${encodeURIComponent('\u0435')}ed`);
  notFound('a NUL id', '%00');
  notFound('a full-width id', encodeURIComponent(FULLWIDTH_1234));
  notFound('a lone surrogate encoded as UTF-8', '%ED%A0%80');
  notFound('a truncated UTF-8 escape (%E0%A4%A)', '%E0%A4%A');
  add(route, { name: '/v1/tokens/ (no id) → 404', method: 'GET', path: '/v1/tokens/', status: 404, code: 'NOT_FOUND' });
  add(route, { name: '/v1/Tokens/… (wrong case) → 404', method: 'GET', path: `/v1/Tokens/${SEED_VC}`, status: 404, code: 'NOT_FOUND' });
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    add(route, { name: `${method} → 405 allow GET`, method, path: `/v1/tokens/${SEED_VC}`, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET' });
  }
}

// --- list routes: query parameters --------------------------------------------------------------------------
const historyKey = (pk: string, sk: string, seq: string): string => b64url({ pk, sk, seq });
function listRoute(route: string, base: string, tooLong: string, forged: [string, string][]): void {
  const badLimit = (label: string, query: string, fields = ['query.limit']): void =>
    add(route, { name: `${label} → 400 ${fields.join(', ')}`, method: 'GET', path: `${base}?${query}`, status: 400, code: 'VALIDATION_FAILED', fields });
  badLimit('limit=0', 'limit=0');
  badLimit('limit=101', 'limit=101');
  badLimit('limit=-1', 'limit=-1');
  badLimit('limit=abc', 'limit=abc');
  badLimit('limit=1e2 (exponent notation)', 'limit=1e2');
  badLimit('limit=0x10 (hex)', 'limit=0x10');
  badLimit('limit=1.5', 'limit=1.5');
  badLimit('limit= (empty)', 'limit=');
  badLimit('limit=Infinity', 'limit=Infinity');
  badLimit('limit given twice (5 and 6)', 'limit=5&limit=6');
  badLimit('limit full-width ５', `limit=${encodeURIComponent('\uff15')}`);
  badLimit('limit=99999999999999999999', 'limit=99999999999999999999');
  const badNext = (label: string, token: string, fields = ['query.nextToken']): void =>
    add(route, {
      name: `nextToken ${label} → 400 ${fields.join(', ')}`,
      method: 'GET',
      path: `${base}?nextToken=${encodeURIComponent(token)}`,
      status: 400,
      code: 'VALIDATION_FAILED',
      fields,
    });
  badNext('garbage', 'garbage!!');
  badNext('empty', '');
  badNext('of 2 049 chars', 'n'.repeat(2049));
  badNext('base64url of a JSON array', b64url([]));
  badNext('base64url of JSON null', b64url('null'));
  badNext('base64url of {"__proto__": …}', b64url('{"__proto__":{"pk":"x"}}'));
  badNext('with a NUL byte', 'abc\u0000def');
  for (const [label, token] of forged) badNext(label, token);
  add(route, {
    name: 'limit=0 and nextToken garbage → 400 naming both',
    method: 'GET',
    path: `${base}?limit=0&nextToken=garbage`,
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['query.limit', 'query.nextToken'],
  });
  add(route, {
    name: 'a path parameter over the limit, with limit=0 → 404, never 400',
    method: 'GET',
    path: `${tooLong}?limit=0`,
    status: 404,
    code: 'NOT_FOUND',
  });
  for (const method of ['POST', 'DELETE']) {
    add(route, { name: `${method} → 405 allow GET`, method, path: base, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET' });
  }
}
{
  const route = 'GET /v1/tokens/{virtualCardId}/history';
  const base = `/v1/tokens/${SEED_VC}/history`;
  listRoute(route, base, `/v1/tokens/${'v'.repeat(65)}/history`, [
    ['forged for another token', historyKey('TOKEN#vc-other', 'EVT#x', 'EVT#0000000001')],
    ['forged with a missing key attribute', b64url({ pk: `TOKEN#${SEED_VC}`, sk: 'EVT#x' })],
    ['forged with a numeric key attribute', b64url({ pk: `TOKEN#${SEED_VC}`, sk: 'EVT#x', seq: 1 })],
    ['forged for this token with empty key attributes', historyKey(`TOKEN#${SEED_VC}`, '', '')],
  ]);
  add(route, { name: 'an unknown token → 404', method: 'GET', path: '/v1/tokens/vc-corpus-unknown/history', status: 404, code: 'NOT_FOUND' });
  add(route, { name: '…/History (wrong case) → 404', method: 'GET', path: `/v1/tokens/${SEED_VC}/History`, status: 404, code: 'NOT_FOUND' });
  add(route, { name: '…/history/ (trailing slash) → 404', method: 'GET', path: `${base}/`, status: 404, code: 'NOT_FOUND' });
}
{
  const route = 'GET /v1/cards/{issuerCardRefId}/tokens';
  const base = `/v1/cards/${SEED_CARD}/tokens`;
  const cardKey = (card: string, vc: string, pk = `TOKEN#${vc}`): string => b64url({ pk, sk: 'TOKEN', gsi1pk: `CARD#${card}`, gsi1sk: `TOKEN#${vc}` });
  listRoute(route, base, `/v1/cards/${'c'.repeat(49)}/tokens`, [
    ['forged for another card', cardKey('card-other', 'vc-other')],
    ['forged with an extra attribute', b64url({ pk: 'TOKEN#x', sk: 'TOKEN', gsi1pk: `CARD#${SEED_CARD}`, gsi1sk: 'TOKEN#x', extra: 'e' })],
    ['forged for this card with empty key attributes', cardKey(SEED_CARD, '', '')],
  ]);
  add(route, { name: '/v1/cards/…/Tokens (wrong case) → 404', method: 'GET', path: `/v1/cards/${SEED_CARD}/Tokens`, status: 404, code: 'NOT_FOUND' });
  add(route, { name: '/v1/cards//tokens (empty id) → 404', method: 'GET', path: '/v1/cards//tokens', status: 404, code: 'NOT_FOUND' });
}

// --- GET /v1/network-tokens/{tokenId} and …/token-pan ----------------------------------------------------
{
  const route = 'GET /v1/network-tokens/{tokenId}';
  const notFound = (name: string, id: string): void =>
    add(route, { name: `${name} → 404`, method: 'GET', path: `/v1/network-tokens/${id}`, status: 404, code: 'NOT_FOUND' });
  notFound('an unknown id', 'nt-corpus-unknown');
  notFound('an id of 129 chars', 'n'.repeat(129));
  notFound('an id of 10 000 chars', 'n'.repeat(10_000));
  notFound('the seeded id upper-cased', SEED_NT.toUpperCase());
  notFound('the seeded id + an RTL override', `${SEED_NT}%E2%80%AE`);
  notFound('a NUL id', '%00');
  notFound('a lone surrogate encoded as UTF-8', '%ED%A0%80');
  add(route, { name: '/v1/Network-tokens/… (wrong case) → 404', method: 'GET', path: `/v1/Network-tokens/${SEED_NT}`, status: 404, code: 'NOT_FOUND' });
  add(route, { name: '/v1/network-tokens (no id) → 404', method: 'GET', path: '/v1/network-tokens', status: 404, code: 'NOT_FOUND' });
  for (const method of ['POST', 'PUT', 'DELETE']) {
    add(route, { name: `${method} → 405 allow GET`, method, path: `/v1/network-tokens/${SEED_NT}`, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET' });
  }
}
{
  const route = 'GET /v1/network-tokens/{tokenId}/token-pan';
  const path = (id: string): string => `/v1/network-tokens/${id}/token-pan`;
  add(route, { name: 'the seeded token (no PAN stored) → 404', method: 'GET', path: path(SEED_NT), status: 404, code: 'NOT_FOUND' });
  add(route, { name: 'an unknown token → 404', method: 'GET', path: path('nt-corpus-unknown'), status: 404, code: 'NOT_FOUND' });
  add(route, { name: 'an id of 129 chars → 404, never 400', method: 'GET', path: path('n'.repeat(129)), status: 404, code: 'NOT_FOUND' });
  add(route, { name: 'a NUL id → 404', method: 'GET', path: path('%00'), status: 404, code: 'NOT_FOUND' });
  add(route, { name: '…/TOKEN-PAN (wrong case) → 404', method: 'GET', path: `/v1/network-tokens/${SEED_NT}/TOKEN-PAN`, status: 404, code: 'NOT_FOUND' });
  add(route, { name: '…/token-pan/ (trailing slash) → 404', method: 'GET', path: `${path(SEED_NT)}/`, status: 404, code: 'NOT_FOUND' });
  for (const method of ['POST', 'DELETE']) {
    add(route, { name: `${method} → 405 allow GET`, method, path: path(SEED_NT), status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET' });
  }
}

// --- events out: the event log and webhook subscriptions ------------------------------------------------------
{
  const route = 'GET /v1/events';
  const bad = (label: string, query: string, fields: string[]): void =>
    add(route, { name: `${label} → 400 ${fields.join(', ')}`, method: 'GET', path: `/v1/events?${query}`, status: 400, code: 'VALIDATION_FAILED', fields });
  bad('limit=0', 'limit=0', ['query.limit']);
  bad('limit=101', 'limit=101', ['query.limit']);
  bad('limit=1e2', 'limit=1e2', ['query.limit']);
  bad('type unknown', 'type=token.exploded', ['query.type']);
  bad('type in another case', 'type=TOKEN.CREATED', ['query.type']);
  bad('after naming no event', 'after=evt_corpus_unknown', ['query.after']);
  bad('after of 65 chars', `after=${'e'.repeat(65)}`, ['query.after']);
  bad('nextToken garbage', 'nextToken=garbage!!', ['query.nextToken']);
  bad('nextToken forged (base64url JSON of another shape)', `nextToken=${b64url({ pk: 'EVENT#x', sk: 'EVENT' })}`, ['query.nextToken']);
  bad('limit=0 and type unknown', 'limit=0&type=x', ['query.limit', 'query.type']);
  for (const method of ['POST', 'DELETE']) {
    add(route, { name: `${method} → 405 allow GET`, method, path: '/v1/events', status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET' });
  }
}
{
  const route = 'POST /v1/event-subscriptions';
  const SUBS = '/v1/event-subscriptions';
  const base = { 'content-type': 'application/json' };
  bodyRouteCommon({ route, path: SUBS, headers: base, required: ['url'] });
  const bad = (label: string, body: unknown, fields: string[]): void =>
    add(route, {
      name: `${label} → 400 ${fields.join(', ')}`,
      method: 'POST',
      path: SUBS,
      headers: hdrs(base),
      body: J(body),
      status: 400,
      code: 'VALIDATION_FAILED',
      fields,
    });
  bad('url not a URL', { url: 'not a url' }, ['url']);
  bad('url ftp://', { url: 'ftp://example.com/hook' }, ['url']);
  bad('url http:// to a public host', { url: 'http://example.com/hook' }, ['url']);
  bad('url to the metadata address', { url: 'https://169.254.169.254/latest/meta-data' }, ['url']);
  bad('url to a private address', { url: 'https://10.0.0.1/hook' }, ['url']);
  bad('url to an IPv4-mapped loopback', { url: 'https://[::ffff:127.0.0.1]/hook' }, ['url']);
  bad('eventTypes with an unknown type', { url: 'https://example.com/hook', eventTypes: ['token.exploded'] }, ['eventTypes.0']);
  bad('eventTypes not an array', { url: 'https://example.com/hook', eventTypes: 'token.created' }, ['eventTypes']);
  bad('description of 257 chars', { url: 'https://example.com/hook', description: 'd'.repeat(257) }, ['description']);
}
{
  const SUBS = '/v1/event-subscriptions';
  add('GET /v1/event-subscriptions', {
    name: 'PUT → 405 allow GET, POST',
    method: 'PUT',
    path: SUBS,
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    allow: 'GET, POST',
  });
  const unknown = `${SUBS}/sub-corpus-unknown`;
  add('DELETE /v1/event-subscriptions/{subscriptionId}', {
    name: 'an unknown subscription → 404',
    method: 'DELETE',
    path: unknown,
    status: 404,
    code: 'NOT_FOUND',
  });
  const json = { 'content-type': 'application/json' };
  add('POST /v1/event-subscriptions/{subscriptionId}/replay', {
    name: 'an unknown subscription → 404',
    method: 'POST',
    path: `${unknown}/replay`,
    headers: hdrs(json),
    body: J({}),
    status: 404,
    code: 'NOT_FOUND',
  });
  add('POST /v1/event-subscriptions/{subscriptionId}/replay', {
    name: 'since not an instant → 400 since',
    method: 'POST',
    path: `${unknown}/replay`,
    headers: hdrs(json),
    body: J({ since: 'yesterday' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    fields: ['since'],
  });
  add('POST /v1/event-subscriptions/{subscriptionId}/rotate-secret', {
    name: 'an unknown subscription → 404',
    method: 'POST',
    path: `${unknown}/rotate-secret`,
    status: 404,
    code: 'NOT_FOUND',
  });
}

// --- webhooks: methods and paths -----------------------------------------------------------------------------
{
  const route = 'POST notifyVirtualCardChange';
  for (const method of ['PUT', 'DELETE', 'PATCH']) {
    add(route, { name: `${method} → 405 allow POST`, method, path: CB, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'POST' });
  }
  add(route, { name: 'GET with a query string → 405 allow POST', method: 'GET', path: `${CB}?x=1`, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'POST' });
  add(route, {
    name: 'the path with "v2x0" (the dot is literal) → 404',
    method: 'POST',
    path: '/issuer/igwapi/v2x0/notifyVirtualCardChange',
    headers: [['content-type', 'application/json']],
    body: '{}',
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, {
    name: 'an extra segment → 404',
    method: 'POST',
    path: `${CB}/extra`,
    headers: [['content-type', 'application/json']],
    body: '{}',
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, {
    name: '/ISSUER/… (wrong case) → 404',
    method: 'POST',
    path: CB.toUpperCase(),
    headers: [['content-type', 'application/json']],
    body: '{}',
    status: 404,
    code: 'NOT_FOUND',
  });
}
{
  const route = 'POST notify-token-update';
  for (const method of ['GET', 'PUT', 'DELETE']) {
    add(route, { name: `${method} → 405 allow POST`, method, path: TU, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'POST' });
  }
  add(route, {
    name: '/tsh-cof/Notify-Token-Update (wrong case) → 404',
    method: 'POST',
    path: '/tsh-cof/Notify-Token-Update',
    headers: [['content-type', 'application/json']],
    body: '{}',
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, {
    name: '/tsh-cof/notify-token-update/ (trailing slash) → 404',
    method: 'POST',
    path: `${TU}/`,
    headers: [['content-type', 'application/json']],
    body: '{}',
    status: 404,
    code: 'NOT_FOUND',
  });
}

// --- GET /health, GET /openapi.json ---------------------------------------------------------------------
{
  const route = 'GET /health';
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    add(route, { name: `${method} → 405 allow GET`, method, path: '/health', status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET' });
  }
  add(route, {
    name: 'POST with 64 KiB + 1 → 405 (method before size)',
    method: 'POST',
    path: '/health',
    headers: [['content-type', 'application/json']],
    body: paddedTo({}, MAX_BODY + 1),
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
    allow: 'GET',
  });
  for (const path of ['/Health', '/HEALTH', '/health/', '/health/x', '//health', '/health%00']) {
    add(route, { name: `${path} → 404`, method: 'GET', path, status: 404, code: 'NOT_FOUND' });
  }
}
{
  const route = 'GET /openapi.json';
  for (const method of ['POST', 'PUT', 'DELETE']) {
    add(route, { name: `${method} → 405 allow GET`, method, path: '/openapi.json', status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET' });
  }
  for (const path of ['/OpenAPI.json', '/openapi.JSON', '/openapi.json/', '/openapi', '/openapi.yaml', '/openapiXjson']) {
    add(route, { name: `${path} → 404`, method: 'GET', path, status: 404, code: 'NOT_FOUND' });
  }
}

// --- bulk jobs: /v1/lcm-jobs… (nothing may be written: every job id here is unknown) -------------------------
{
  const JOBS = '/v1/lcm-jobs';
  const UNKNOWN = '00000000-0000-4000-8000-00000000job1';
  const base = { 'content-type': 'application/json' };
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `card-${i}`);
  const bad = (route: string, path: string, name: string, value: unknown, fields: string[], headers: HeaderList = hdrs(base)): void =>
    add(route, { name: `${name} → 400 ${fields.join(', ')}`, method: 'POST', path, headers, body: J(value), status: 400, code: 'VALIDATION_FAILED', fields });

  const create = 'POST /v1/lcm-jobs';
  bodyRouteCommon({ route: create, path: JOBS, headers: base, required: ['action', 'issuerCardRefIds'] });
  bad(create, JOBS, 'action "suspend"', { action: 'suspend', issuerCardRefIds: ['a'] }, ['action']);
  bad(create, JOBS, 'no cards', { action: 'SUSPEND', issuerCardRefIds: [] }, ['issuerCardRefIds']);
  bad(create, JOBS, '1 001 cards', { action: 'SUSPEND', issuerCardRefIds: ids(1001) }, ['issuerCardRefIds']);
  bad(create, JOBS, 'cards as a string', { action: 'SUSPEND', issuerCardRefIds: 'a' }, ['issuerCardRefIds']);
  bad(create, JOBS, 'an empty and a 49-char card', { action: 'SUSPEND', issuerCardRefIds: ['ok', '', 'c'.repeat(49)] }, [
    'issuerCardRefIds.1',
    'issuerCardRefIds.2',
  ]);
  bad(create, JOBS, 'a card as a number', { action: 'SUSPEND', issuerCardRefIds: [7] }, ['issuerCardRefIds.0']);
  bad(create, JOBS, 'reason of 257 chars', { action: 'SUSPEND', issuerCardRefIds: ['a'], reason: 'r'.repeat(257) }, ['reason']);
  bad(create, JOBS, 'empty reason', { action: 'SUSPEND', issuerCardRefIds: ['a'], reason: '' }, ['reason']);
  bad(
    create,
    JOBS,
    'idempotency-key of 129 chars',
    { action: 'SUSPEND', issuerCardRefIds: ['a'] },
    ['headers.idempotency-key'],
    hdrs(base, { 'idempotency-key': 'k'.repeat(129) }),
  );
  for (const method of ['GET', 'PUT', 'DELETE'])
    add(create, { name: `${method} → 405 allow POST`, method, path: JOBS, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'POST' });

  const addCards = 'POST /v1/lcm-jobs/{jobId}/cards';
  const cardsPath = `${JOBS}/${UNKNOWN}/cards`;
  bodyRouteCommon({ route: addCards, path: cardsPath, headers: base, required: ['issuerCardRefIds'] });
  bad(addCards, cardsPath, '1 001 cards', { issuerCardRefIds: ids(1001) }, ['issuerCardRefIds']);
  bad(addCards, cardsPath, 'a 49-char card', { issuerCardRefIds: ['c'.repeat(49)] }, ['issuerCardRefIds.0']);
  add(addCards, {
    name: 'an unknown job → 404',
    method: 'POST',
    path: cardsPath,
    headers: hdrs(base),
    body: J({ issuerCardRefIds: ['a'] }),
    status: 404,
    code: 'NOT_FOUND',
  });
  add(addCards, {
    name: 'a job id of 65 chars → 404',
    method: 'POST',
    path: `${JOBS}/${'j'.repeat(65)}/cards`,
    headers: hdrs(base),
    body: J({ issuerCardRefIds: ['a'] }),
    status: 404,
    code: 'NOT_FOUND',
  });

  for (const [route, action] of [
    ['POST /v1/lcm-jobs/{jobId}/start', 'start'],
    ['POST /v1/lcm-jobs/{jobId}/cancel', 'cancel'],
  ] as const) {
    const path = `${JOBS}/${UNKNOWN}/${action}`;
    add(route, { name: 'an unknown job → 404', method: 'POST', path, status: 404, code: 'NOT_FOUND' });
    add(route, {
      name: 'a body that is not JSON → 415',
      method: 'POST',
      path,
      headers: [['content-type', 'text/plain']],
      body: 'go',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    add(route, {
      name: `/${action.toUpperCase()} (wrong case) → 404`,
      method: 'POST',
      path: `${JOBS}/${UNKNOWN}/${action.toUpperCase()}`,
      status: 404,
      code: 'NOT_FOUND',
    });
    for (const method of ['GET', 'PUT', 'DELETE'])
      add(route, { name: `${method} → 405 allow POST`, method, path, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'POST' });
  }

  const getJob = 'GET /v1/lcm-jobs/{jobId}';
  for (const [name, id] of [
    ['an unknown job', UNKNOWN],
    ['an id of 65 chars', 'j'.repeat(65)],
    ['an encoded slash (a%2Fb)', 'a%2Fb'],
    ['a NUL id (%00)', '%00'],
  ]) {
    add(getJob, { name: `${name} → 404`, method: 'GET', path: `${JOBS}/${id}`, status: 404, code: 'NOT_FOUND' });
  }
  for (const method of ['PUT', 'DELETE', 'POST'])
    add(getJob, { name: `${method} → 405 allow GET`, method, path: `${JOBS}/${UNKNOWN}`, status: 405, code: 'METHOD_NOT_ALLOWED', allow: 'GET' });

  const listCards = 'GET /v1/lcm-jobs/{jobId}/cards';
  const query = (name: string, q: string, fields: string[]) =>
    add(listCards, { name: `${name} → 400 ${fields.join(', ')}`, method: 'GET', path: `${cardsPath}?${q}`, status: 400, code: 'VALIDATION_FAILED', fields });
  query('status DONE', 'status=DONE', ['query.status']);
  query('status queued (lower case)', 'status=queued', ['query.status']);
  query('limit 0', 'limit=0', ['query.limit']);
  query('limit 101', 'limit=101', ['query.limit']);
  query('limit 1e2', 'limit=1e2', ['query.limit']);
  query('a nextToken that is not ours', `nextToken=${b64url('x')}`, ['query.nextToken']);
  query('limit and status both bad', 'limit=-1&status=x', ['query.limit', 'query.status']);
  add(listCards, { name: 'an unknown job → 404', method: 'GET', path: cardsPath, status: 404, code: 'NOT_FOUND' });
  add(listCards, {
    name: 'an unknown job with a well-formed query → 404',
    method: 'GET',
    path: `${cardsPath}?status=QUEUED&limit=5`,
    status: 404,
    code: 'NOT_FOUND',
  });
}

// --- OPTIONS is another method too (§3: known path, other method → 405 with allow) --------------------------
for (const [route, path, allow] of [
  ['GET /health', '/health', 'GET'],
  ['GET /v1/tokens/{virtualCardId}', `/v1/tokens/${SEED_VC}`, 'GET'],
  ['POST notifyVirtualCardChange', CB, 'POST'],
  ['POST /v1/lcm-operations', OPS, 'POST'],
] as const) {
  add(route, { name: 'OPTIONS → 405 with allow', method: 'OPTIONS', path, status: 405, code: 'METHOD_NOT_ALLOWED', allow });
}

// --- unknown paths -------------------------------------------------------------------------------------------
{
  const route = 'unknown path';
  for (const path of [
    '/',
    '/v1',
    '/v1/tokens',
    '/v1/cards',
    '/v2/lcm-operations',
    '/admin',
    '/.env',
    '/v1/tokens/x/history/extra',
    '/v1/cards/x',
    '/tsh-cof',
    '/issuer/igwapi/v2.0',
    `/${'x'.repeat(8000)}`,
  ]) {
    add(route, {
      name: `GET ${path.length > 60 ? `${path.slice(0, 20)}… (${path.length} chars)` : path} → 404`,
      method: 'GET',
      path,
      status: 404,
      code: 'NOT_FOUND',
    });
  }
  add(route, {
    name: 'POST /v1/tokens → 404',
    method: 'POST',
    path: '/v1/tokens',
    headers: [['content-type', 'application/json']],
    body: '{}',
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, { name: 'DELETE / → 404', method: 'DELETE', path: '/', status: 404, code: 'NOT_FOUND' });
  add(route, {
    name: 'POST to an unknown path with 64 KiB + 1 → 404 (path before size)',
    method: 'POST',
    path: '/v1/unknown',
    headers: [['content-type', 'application/json']],
    body: paddedTo({}, MAX_BODY + 1),
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, {
    name: 'POST to an unknown path with text/plain → 404 (path before media type)',
    method: 'POST',
    path: '/v1/unknown',
    headers: [['content-type', 'text/plain']],
    body: 'hello',
    status: 404,
    code: 'NOT_FOUND',
  });
  add(route, { name: 'PUT /v1/tokens/x/history/extra → 404', method: 'PUT', path: '/v1/tokens/x/history/extra', status: 404, code: 'NOT_FOUND' });
}

// Every route of HTTP_ROUTES has cases (the labels name them by method and path).
const ROUTE_LABELS: Record<string, string> = {
  'POST /issuer/igwapi/v2.0/notifyVirtualCardChange': 'POST notifyVirtualCardChange',
  'POST /tsh-cof/notify-token-update': 'POST notify-token-update',
};
const routeLabel = (r: { method: string; path: string }): string => ROUTE_LABELS[`${r.method} ${r.path}`] ?? `${r.method} ${r.path}`;

// ---------------------------------------------------------------------------------------------------------
// the stack, the consumers' wiretap, the snapshots

/** What the consumers were handed, and which corpus case was running at the time (null = seeding). */
const consumed: { consumer: string; phase: 'seed' | 'corpus'; currentCase: string | null; body: string }[] = [];
let currentCase: string | null = null;
let corpusStarted = false;

const stack = useTestStack({
  loadConsumer: spyOnConsumers((consumer, body) => consumed.push({ consumer, phase: corpusStarted ? 'corpus' : 'seed', currentCase, body })),
});

/** Every item of the table, sorted by key (a consistent Scan, all pages). */
async function scanTable(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await stack.ddb.send(
      new ScanCommand({ TableName: process.env.TABLE_NAME!, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  const key = (item: Record<string, unknown>): string => `${String(item.pk)}\u0000${String(item.sk)}`;
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const emptyQueues = (depths: Record<string, QueueDepth>): boolean => Object.values(depths).every(isEmpty);
const queueDepths = () => allQueueDepths(stack);

let before: { items: Record<string, unknown>[]; depths: Record<string, QueueDepth>; protoKeys: string[] };
let corpusMs = 0;
const statusCounts = new Map<number, number>();

// ---------------------------------------------------------------------------------------------------------
// the tests

describe('bad-input corpus (DESIGN §3, rule 13)', () => {
  it('has ≥ 200 cases and covers every route of HTTP_ROUTES', () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    const covered = new Set(cases.map((c) => c.route));
    for (const r of HTTP_ROUTES) expect(covered).toContain(routeLabel(r));
    expect(covered).toContain('unknown path');
    // Every 400 names its fields; every 405 names its allow header.
    for (const c of cases) {
      if (c.status === 400) expect(c.fields?.length).toBeGreaterThan(0);
      if (c.status === 405) expect(c.allow).toBeDefined();
    }
  });

  it('seeds one issuer token and one network token through the webhooks, then snapshots store and queues', async () => {
    const cb = await fetch(stack.url + CB, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'corpus-seed-1', 'x-issuer-id': TEST_ENV.ISSUER_ID },
      body: J({ issuerCardRefId: SEED_CARD, virtualCardId: SEED_VC, action: 'ACTIVATE', source: 'WALLET', walletProviderId: 'APPLE_PAY' }),
    });
    expect(cb.status).toBe(200);
    const tu = await fetch(stack.url + TU, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `APIKEY ${TEST_ENV.TR_API_KEY}`, 'x-correlation-id': 'corpus-seed-2' },
      body: J({
        tokenId: SEED_NT,
        merchantId: 'm-corpus',
        lastUpdateTimestamp: '2026-03-01T08:00:00Z',
        tokenState: 'ACTIVE',
        tokenLastDigits: '1234',
        cardArt: { a: 1 },
      }),
    });
    expect(tu.status).toBe(204);
    await eventually(async () => ((await fetch(`${stack.url}/v1/tokens/${SEED_VC}`)).status === 200 ? true : undefined));
    await eventually(async () => ((await fetch(`${stack.url}/v1/network-tokens/${SEED_NT}`)).status === 200 ? true : undefined));
    await eventually(async () => {
      await stack.service.idle();
      return emptyQueues(await queueDepths()) ? true : undefined;
    });
    await stack.service.idle();
    // The seed's own events are published before the snapshot: after it, nothing may be written.
    await stack.service.published();
    expect(new Set(consumed.map((c) => c.consumer))).toEqual(new Set(['apply-token-update', 'apply-virtual-card-change']));

    before = { items: await scanTable(), depths: await queueDepths(), protoKeys: Object.getOwnPropertyNames(Object.prototype).sort() };
    expect(before.items.length).toBeGreaterThanOrEqual(3);
    expect(emptyQueues(before.depths)).toBe(true);
    corpusStarted = true;
  });

  it.each(cases)('[$route] $name', async (c) => {
    currentCase = `${c.route}: ${c.name}`;
    const started = Date.now();
    const res = await fetch(stack.url + c.path, {
      method: c.method,
      ...(c.headers ? { headers: c.headers } : {}),
      ...(c.body !== undefined ? { body: c.body } : {}),
    });
    const text = await res.text();
    corpusMs += Date.now() - started;
    statusCounts.set(res.status, (statusCounts.get(res.status) ?? 0) + 1);

    // the §3 status — so never a 5xx, whatever the input (the body is in the message when it differs)
    expect(`${res.status} ${text.slice(0, 300)}`).toMatch(new RegExp(`^${c.status} `));
    expect(res.status).toBeLessThan(500);
    expect(res.headers.get('content-type')).toMatch(/^application\/json\b/);
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; fields?: { path: unknown; message: unknown }[] } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error?.code).toBe(c.code);
    expect(typeof body.error?.message).toBe('string');
    expect((body.error?.message as string).length).toBeGreaterThan(0);
    if (c.status === 400) {
      expect(Object.keys(body.error!).sort()).toEqual(['code', 'fields', 'message']);
      const fields = body.error!.fields!;
      for (const f of fields) {
        expect(typeof f.path).toBe('string');
        expect(typeof f.message).toBe('string');
      }
      expect([...new Set(fields.map((f) => f.path as string))].sort()).toEqual([...c.fields!].sort());
    } else {
      expect(Object.keys(body.error!).sort()).toEqual(['code', 'message']);
    }
    if (c.status === 405) expect(res.headers.get('allow')).toBe(c.allow);
  });

  it('changed nothing: the table, every queue and DLQ are as before, no consumer was handed anything, no prototype was polluted', async () => {
    currentCase = null;
    await stack.service.idle();
    const depths = await queueDepths();
    await stack.service.idle();
    expect(consumed.filter((c) => c.phase === 'corpus')).toEqual([]);
    expect(depths).toEqual(before.depths);
    expect(await scanTable()).toEqual(before.items);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before.protoKeys);
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    const perRoute = new Map<string, number>();
    for (const c of cases) perRoute.set(c.route, (perRoute.get(c.route) ?? 0) + 1);
    // A one-line summary for the run log (test output only; nothing is asserted on it).
    process.stdout.write(
      `bad-input corpus: ${cases.length} cases in ${corpusMs} ms of requests; statuses ${J(Object.fromEntries([...statusCounts].sort()))}; per route ${J(Object.fromEntries(perRoute))}\n`,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// After the corpus (whose "nothing changed" check is above): input the schema lets through must either be
// rejected (400) or land. An update acknowledged 204 that the consumer can never write is lost (rule 1) and
// poisons the queue until it reaches the DLQ. These cases do write when the service is right, so they run last.

describe('schema-valid cardArt the store cannot hold is never acknowledged and then lost (rules 1, 12, 13)', () => {
  const variants: [label: string, cardArt: string][] = [
    ['objects nested 40 deep (DynamoDB allows 32 levels)', '{"a":'.repeat(40) + '1' + '}'.repeat(40)],
    ['the number 1e200 (outside the DynamoDB number range)', '{"n":1e200}'],
    ['an integer beyond 2^53 (12345678901234567890)', '{"n":12345678901234567890}'],
    ['an empty key', '{"":1}'],
    ['arrays nested 3 000 deep (6 KiB serialised)', `{"x":${nestedArrays(3000)}}`],
  ];

  it('each answers 400 cardArt, or 204 and the token is then readable', async () => {
    const outcomes = await Promise.all(
      variants.map(async ([label, cardArt], i) => {
        const tokenId = `nt-corpus-art-${i}`;
        const res = await fetch(stack.url + TU, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `APIKEY ${TEST_ENV.TR_API_KEY}`, 'x-correlation-id': `corpus-art-${i}` },
          body: `{"tokenId":"${tokenId}","merchantId":"m","lastUpdateTimestamp":"2026-03-01T08:00:00Z","cardArt":${cardArt}}`,
        });
        const text = await res.text();
        if (res.status !== 204) {
          const fields =
            res.status === 400
              ? (JSON.parse(text) as { error: { fields?: { path: string }[] } }).error.fields?.map((f) => f.path).join(',')
              : text.slice(0, 200);
          return [label, `${res.status} ${fields}`];
        }
        const landed = await eventually(
          async () => ((await fetch(`${stack.url}/v1/network-tokens/${tokenId}`)).status === 200 ? true : undefined),
          6_000,
        ).catch(() => false);
        return [label, landed ? '204 stored' : '204 acknowledged, never stored'];
      }),
    );
    expect(Object.fromEntries(outcomes)).toEqual(Object.fromEntries(variants.map(([label]) => [label, expect.stringMatching(/^(400 cardArt|204 stored)$/)])));
  }, 20_000);
});
