/**
 * D1 simulator: a stand-in for the Thales Issuer Gateway (classic TSH) that issuers run to test their integration
 * with token-lifecycle, with no Thales account (DESIGN §6). Plain `node:http`, in-memory, one process.
 *
 * - `POST /updateCardState` answers 200 `{}` and then, like D1, sends one `notifyVirtualCardChange` per affected
 *   token to our webhook with the request's `x-correlation-id` (d1-api.md §1.1, §1.2).
 * - `POST /getCardInfo` lists the card's tokens with their D1 `status` (d1-api.md §2.4, §3.1).
 * - Merchant (COF) side: `POST /transactions` (also under `/tsh-cof`) is Create Transaction: `authorization: APIKEY`,
 *   a token of the simulator's network-token model → 201 with a JWE (RSA-OAEP-256 / A256GCM) to our public key
 *   holding `{ tokenPan, tokenExpiryDate, cryptogram }` (d1-api.md §2.5, §4.2). Token updates are delivered to
 *   our `POST /tsh-cof/notify-token-update` with `authorization: APIKEY <trApiKey>` (DESIGN §3).
 * - `/_sim/*` is the control API: seed cards and network tokens, start wallet/TSP/renewal callbacks and merchant
 *   token updates, inject faults (duplicates, delays, reordering, `errorCode` 221, HTTP 5xx/429/400, timeouts,
 *   dropped callbacks, undecryptable JWEs) and read what our service sent and what the simulator delivered.
 *   Not part of the fixed contract; documented in the README.
 *
 * Card data (`tokenInfo`), token PANs and API keys are never logged or kept in the logs it exposes. Token PANs
 * are not stored either: each is derived from (tokenId, PAN generation) when a transaction needs it.
 */
import { createHash, createPublicKey, randomBytes, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import { luhnValid } from '../lambdas/domain/card-data';

export interface D1SimulatorOptions {
  port: number; // 0 = any free port
  host?: string; // default '127.0.0.1'
  issuerId: string; // 10 chars, sent as x-issuer-id on callbacks
  /** Base URL of OUR service's webhook gateway, e.g. http://127.0.0.1:3000 */
  /** Our service's base URL; a function when it is only known after the simulator started (tests). */
  serviceBaseUrl: string | (() => string);
  log?: (line: string) => void;
  /** Pause between attempts of a callback that got a network error or 5xx (default 200 ms). */
  callbackRetryDelayMs?: number;
  /** Per-attempt timeout of a callback delivery (default 10 s). */
  callbackTimeoutMs?: number;
  /** Key D1 presents to our `POST /tsh-cof/notify-token-update` as `authorization: APIKEY <key>`; unset = no header. */
  trApiKey?: string;
  /** Key our service must present to Create Transaction; unset = any `APIKEY <non-empty>` is accepted. */
  cofApiKey?: string;
  /**
   * Our RSA public key (SPKI PEM, a PKCS#8 private-key PEM whose public half is used, or a KeyObject); Create
   * Transaction encrypts `encryptedData` to it. PEM may be `\n`-escaped. Unset = Create Transaction answers 500.
   */
  trJwePublicKey?: string | KeyObject;
}

export interface D1Simulator {
  url: string;
  port: number;
  /** Resolves when no callback delivery is pending (delayed ones included). */
  idle(): Promise<void>;
  /** Forgets cards, faults and logs (same as `POST /_sim/reset`). */
  reset(): void;
  stop(): Promise<void>;
}

/** Key id in the protected header of every Create Transaction JWE. */
export const TR_JWE_KID = 'tr-key-1';

/** Classic TSH token states (d1-api.md §3.1). */
export type D1TokenStatus = 'DEPLOYMENT_ONGOING' | 'INACTIVE' | 'RESUMED' | 'SUSPENDED' | 'DELETED' | 'ERASED';
const STATUSES: readonly string[] = ['DEPLOYMENT_ONGOING', 'INACTIVE', 'RESUMED', 'SUSPENDED', 'DELETED', 'ERASED'];
const TERMINAL: readonly string[] = ['DELETED', 'ERASED'];
/** State after a successful callback; RENEW and unknown actions leave it alone (DESIGN §2 rule 7). */
const STATUS_AFTER: Record<string, D1TokenStatus> = {
  ACTIVATE: 'RESUMED', RESUME: 'RESUMED', SUSPEND: 'SUSPENDED', DELETE: 'DELETED', DELETE_FROM_APP: 'DELETED',
};
const LCM_ACTIONS: readonly string[] = ['SUSPEND', 'RESUME', 'DELETE'];
const CALLBACK_PATH = '/issuer/igwapi/v2.0/notifyVirtualCardChange';
const TOKEN_UPDATE_PATH = '/tsh-cof/notify-token-update';
const CALLBACK_RETRIES = 3;
const MAX_BODY = 1024 * 1024;

export interface SimToken { virtualCardId: string; walletProviderId: string; status: D1TokenStatus }

interface DeliveryBase {
  correlationId: string;
  /** Last HTTP status from our webhook; null while in flight or after network errors only. */
  status: number | null;
  attempts: number;
  error?: string;
  at: string;
}
/** An issuer-side `notifyVirtualCardChange`. */
export interface CallbackDeliveryRecord extends DeliveryBase {
  kind: 'callback';
  virtualCardId: string;
  action: string;
  errorCode?: number;
}
/** A merchant-side `notify-token-update`: which fields it carried, not their values (nor the API key). */
export interface TokenUpdateDeliveryRecord extends DeliveryBase {
  kind: 'token-update';
  tokenId: string;
  merchantId: string;
  lastUpdateTimestamp: unknown;
  tokenState?: unknown;
  fields: string[];
  /** Only when the delivery deliberately sent a wrong or no `authorization` header. */
  apiKey?: 'wrong' | 'missing';
}
export type DeliveryRecord = CallbackDeliveryRecord | TokenUpdateDeliveryRecord;

export interface RequestRecord {
  method: string;
  path: string;
  /** IGW: x-correlation-id and x-issuer-id. COF: x-correlation-id and `authorization` as 'APIKEY ***' / '***' / null. */
  headers: { 'x-correlation-id': string | null; 'x-issuer-id'?: string | null; authorization?: string | null };
  body: unknown;
  /** What the simulator answered; null while held by the `timeout` fault. */
  status: number | null;
  at: string;
}

/** Merchant-side network token as D1 knows it (the token PAN is derived, never kept). */
export interface SimNetworkToken {
  tokenId: string;
  merchantId: string;
  tokenState: string;
  tokenLastDigits: string;
  tokenExpiryDate: string;
  cardLastDigits?: unknown;
  cardExpiryDate?: unknown;
  cardBin?: unknown;
  par?: unknown;
  cardArt?: unknown;
  /** Bumped whenever tokenLastDigits changes: a new token PAN. */
  panGeneration: number;
  updatedAt: string;
}
const TOKEN_FIELDS = ['tokenState', 'tokenLastDigits', 'tokenExpiryDate', 'cardLastDigits', 'cardExpiryDate', 'cardBin', 'par', 'cardArt'] as const;
type TokenField = (typeof TOKEN_FIELDS)[number];
const TOKEN_ID = /^[a-zA-Z0-9_-]{1,128}$/;
const MMYY = /^(0[1-9]|1[0-2])[0-9]{2}$/;

type UpdateFaultMode = 'ok' | 'http500' | 'http429' | 'timeout' | 'reject400';
type TransactionFaultMode = 'ok' | 'http400' | 'http404' | 'http500' | 'http503' | 'timeout' | 'badJwe';
const TRANSACTION_MODES: readonly string[] = ['ok', 'http400', 'http404', 'http500', 'http503', 'timeout', 'badJwe'];
interface TransactionFault { mode: TransactionFaultMode; times?: number }
interface UpdateFault { mode: UpdateFaultMode; responseCode?: number; times?: number }
interface CallbackFault {
  duplicate?: number; delayMs?: number; reorder?: boolean; errorCode?: number | null; drop?: boolean;
  /** Deliver the callbacks before answering updateCardState (DESIGN §2 rule 8: a callback may beat the answer). */
  beforeAnswer?: boolean;
  times?: number;
}

/** One callback or token update to send, possibly several times. */
interface Planned {
  kind: 'callback' | 'token-update';
  correlationId: string;
  body: Record<string, unknown>;
  copies: number;
  delayMs: number;
  concurrent: boolean;
  /** token-update only: send the configured key (default), a wrong one, or no authorization header. */
  apiKey?: 'wrong' | 'missing';
}

type Json = Record<string, unknown>;
class BadRequest extends Error {}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const count = (v: unknown, field: string, min = 0): number => {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new BadRequest(`${field} must be an integer >= ${min}`);
  return v;
};

export async function startD1Simulator(opts: D1SimulatorOptions): Promise<D1Simulator> {
  const log = opts.log ?? (() => undefined);
  const baseUrl = (): string => (typeof opts.serviceBaseUrl === 'function' ? opts.serviceBaseUrl() : opts.serviceBaseUrl);
  const webhookUrl = (): string => new URL(CALLBACK_PATH, baseUrl()).toString();
  const tokenUpdateUrl = (): string => new URL(TOKEN_UPDATE_PATH, baseUrl()).toString();
  const jweKey = opts.trJwePublicKey === undefined ? undefined : toPublicKey(opts.trJwePublicKey);
  const retryDelayMs = opts.callbackRetryDelayMs ?? 200;
  const callbackTimeoutMs = opts.callbackTimeoutMs ?? 10_000;

  const cards = new Map<string, Map<string, SimToken>>();
  let requests: RequestRecord[] = [];
  let deliveries: DeliveryRecord[] = [];
  let updateFault: UpdateFault = { mode: 'ok' };
  let callbackFault: CallbackFault = {};
  const networkTokens = new Map<string, SimNetworkToken>();
  let transactionFault: TransactionFault = { mode: 'ok' };
  let lastTimestampMs = 0;
  const pending = new Set<Promise<unknown>>();
  // Aborting this cancels every sleep and in-flight fetch, so stop() never waits on a timer or a slow webhook.
  const stopper = new AbortController();
  setMaxListeners(0, stopper.signal); // one listener per pending sleep/fetch is expected, not a leak

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      if (stopper.signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        stopper.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      stopper.signal.addEventListener('abort', done);
    });

  const track = <T>(p: Promise<T>): Promise<T> => {
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    return p;
  };

  // ---- model ----

  const cardView = (id: string): Json => ({ issuerCardRefId: id, tokens: [...(cards.get(id)?.values() ?? [])] });

  function upsertToken(cardId: string, token: SimToken): void {
    let tokens = cards.get(cardId);
    if (!tokens) cards.set(cardId, (tokens = new Map()));
    tokens.set(token.virtualCardId, token);
  }

  /** D1's own view of a successful change. A token first seen with a known action is created, as our service does. */
  function applyToModel(cardId: string, virtualCardId: string, action: string, walletProviderId: string): void {
    const token = cards.get(cardId)?.get(virtualCardId);
    const next = STATUS_AFTER[action] ?? (action === 'RENEW' ? 'RESUMED' : undefined);
    if (!token) {
      if (next) upsertToken(cardId, { virtualCardId, walletProviderId, status: next });
      return;
    }
    if (!TERMINAL.includes(token.status) && STATUS_AFTER[action]) token.status = STATUS_AFTER[action];
  }

  // ---- callback delivery ----

  /** What the deliveries log shows of one copy (no card data, no key). */
  function deliveryRecord({ kind, correlationId, body, apiKey }: Planned): DeliveryRecord {
    const base = { correlationId, status: null, attempts: 0, at: new Date().toISOString() };
    if (kind === 'callback') {
      return {
        kind, ...base, virtualCardId: String(body.virtualCardId), action: String(body.action),
        ...(typeof body.errorCode === 'number' ? { errorCode: body.errorCode } : {}),
      };
    }
    return {
      kind, ...base, tokenId: String(body.tokenId), merchantId: String(body.merchantId), lastUpdateTimestamp: body.lastUpdateTimestamp,
      ...(body.tokenState !== undefined ? { tokenState: body.tokenState } : {}),
      fields: TOKEN_FIELDS.filter((f) => body[f] !== undefined),
      ...(apiKey ? { apiKey } : {}),
    };
  }

  function deliveryHeaders({ kind, correlationId, apiKey }: Planned): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-correlation-id': correlationId };
    if (kind === 'callback') return { ...headers, 'x-issuer-id': opts.issuerId };
    const key = apiKey === 'wrong' ? 'sim-wrong-api-key' : apiKey === 'missing' ? undefined : opts.trApiKey;
    return key === undefined ? headers : { ...headers, authorization: `APIKEY ${key}` };
  }

  const describe = (r: DeliveryRecord): string => r.kind === 'callback'
    ? `callback ${r.action} ${r.virtualCardId} x-correlation-id=${r.correlationId}${r.errorCode !== undefined ? ` errorCode=${r.errorCode}` : ''}`
    : `token-update ${r.tokenId} [${r.fields.join(',')}]${r.apiKey ? ` (${r.apiKey} api key)` : ''} x-correlation-id=${r.correlationId}`;

  /**
   * One copy of a callback or token update, retried on network errors and 5xx like D1 does (and on 429 for token
   * updates, which the COF client API lists as retryable).
   */
  async function deliver(item: Planned): Promise<DeliveryRecord> {
    const record = deliveryRecord(item);
    deliveries.push(record);
    const url = item.kind === 'callback' ? webhookUrl() : tokenUpdateUrl();
    const headers = deliveryHeaders(item);
    const payload = JSON.stringify(item.body);
    for (let attempt = 1; !stopper.signal.aborted; attempt++) {
      record.attempts = attempt;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers,
          body: payload,
          signal: AbortSignal.any([stopper.signal, AbortSignal.timeout(callbackTimeoutMs)]),
        });
        await res.arrayBuffer(); // drain, so the keep-alive connection is reused
        record.status = res.status;
        delete record.error;
      } catch (err) {
        record.error = stopper.signal.aborted ? 'simulator stopped' : (err as Error).message;
      }
      log(`${describe(record)} -> ${record.error ?? record.status} (attempt ${attempt})`);
      const status = record.status ?? 0;
      const retryable = record.error !== undefined || status >= 500 || (item.kind === 'token-update' && status === 429);
      if (!retryable || attempt > CALLBACK_RETRIES) break;
      await sleep(retryDelayMs);
    }
    return record;
  }

  /** Sends the plan in order; copies of one callback go one after another unless `concurrent`. */
  async function run(plan: Planned[]): Promise<DeliveryRecord[]> {
    const done: DeliveryRecord[] = [];
    for (const item of plan) {
      if (item.delayMs > 0) await sleep(item.delayMs);
      if (stopper.signal.aborted) break;
      const copies = Array.from({ length: item.copies }, () => () => deliver(item));
      if (item.concurrent) done.push(...(await Promise.all(copies.map((send) => send()))));
      else for (const send of copies) done.push(await send());
    }
    return done;
  }

  /** A `/_sim/callbacks` item → planned delivery (validation only; see applyPlanned). */
  function planCallback(spec: unknown): Planned {
    if (!isObject(spec)) throw new BadRequest('each callback must be an object');
    const { issuerCardRefId, virtualCardId, action } = spec;
    if (!isText(issuerCardRefId) || !isText(virtualCardId) || !isText(action)) {
      throw new BadRequest('issuerCardRefId, virtualCardId and action are required strings');
    }
    if (spec.errorCode != null && typeof spec.errorCode !== 'number') throw new BadRequest('errorCode must be a number');
    const delivery = isObject(spec.delivery) ? spec.delivery : {};
    const known = cards.get(issuerCardRefId)?.get(virtualCardId);
    const walletProviderId = isText(spec.walletProviderId) ? spec.walletProviderId : known?.walletProviderId ?? 'APPLE_PAY';
    const body: Json = {
      issuerCardRefId, virtualCardId, walletProviderId, action, isPrimary: true,
      // `source: null` omits the field, to test callbacks without one
      ...(spec.source === null ? {} : { source: isText(spec.source) ? spec.source : 'WALLET' }),
      ...(typeof spec.errorCode === 'number' ? { errorCode: spec.errorCode } : {}),
      ...(spec.tokenInfo !== undefined ? { tokenInfo: spec.tokenInfo } : {}),
    };
    return {
      kind: 'callback',
      correlationId: isText(spec.correlationId) ? spec.correlationId : randomUUID(),
      body,
      copies: 1 + count(delivery.duplicate, 'delivery.duplicate'),
      delayMs: count(delivery.delayMs, 'delivery.delayMs'),
      concurrent: delivery.concurrent === true,
    };
  }

  /** A wallet/TSP change happened at D1: its model moves unless the callback reports a failure. */
  function applyPlanned({ body }: Planned): void {
    if (body.errorCode !== undefined) return;
    applyToModel(String(body.issuerCardRefId), String(body.virtualCardId), String(body.action), String(body.walletProviderId));
  }

  // ---- merchant side: network tokens and token updates ----

  const tokenView = (t: SimNetworkToken): Json => ({ ...t });

  /** Strictly increasing ISO instants, so two updates sent within one millisecond still have an order. */
  function nextTimestamp(): string {
    lastTimestampMs = Math.max(Date.now(), lastTimestampMs + 1);
    return new Date(lastTimestampMs).toISOString();
  }

  /** The token fields of `src` (unknown keys are an error when `strict`), checked where the simulator relies on them. */
  function tokenFields(src: Json, where: string, strict: boolean): Partial<Record<TokenField, unknown>> {
    const out: Partial<Record<TokenField, unknown>> = {};
    for (const [key, value] of Object.entries(src)) {
      if ((TOKEN_FIELDS as readonly string[]).includes(key)) out[key as TokenField] = value;
      else if (strict) throw new BadRequest(`${where}${key} is not a token field (${TOKEN_FIELDS.join(', ')})`);
    }
    if (out.tokenState !== undefined && !isText(out.tokenState)) throw new BadRequest(`${where}tokenState must be a string`);
    if (out.tokenLastDigits !== undefined && (typeof out.tokenLastDigits !== 'string' || !/^[0-9]{1,5}$/.test(out.tokenLastDigits))) {
      throw new BadRequest(`${where}tokenLastDigits must be a string of 1–5 digits`);
    }
    if (out.tokenExpiryDate !== undefined && (typeof out.tokenExpiryDate !== 'string' || !MMYY.test(out.tokenExpiryDate))) {
      throw new BadRequest(`${where}tokenExpiryDate must be MMYY`);
    }
    return out;
  }

  /** Creates or changes a network token; a new tokenLastDigits starts a new token PAN ending in those digits. */
  function upsertNetworkToken(tokenId: string, merchantId: string, fields: Partial<Record<TokenField, unknown>>): SimNetworkToken {
    const now = new Date().toISOString();
    let token = networkTokens.get(tokenId);
    if (!token) {
      token = {
        tokenId, merchantId, tokenState: 'ACTIVE',
        tokenLastDigits: tokenPan(tokenId, 0).slice(-4),
        tokenExpiryDate: defaultExpiry(),
        panGeneration: 0, updatedAt: now,
      };
      networkTokens.set(tokenId, token);
    } else if (fields.tokenLastDigits !== undefined && fields.tokenLastDigits !== token.tokenLastDigits) {
      token.panGeneration += 1;
    }
    for (const [key, value] of Object.entries(fields)) (token as unknown as Json)[key] = value;
    token.updatedAt = now;
    return token;
  }

  function seedNetworkToken(body: Json): [number, Json] {
    const { tokenId, merchantId } = body;
    if (typeof tokenId !== 'string' || !TOKEN_ID.test(tokenId)) throw new BadRequest('tokenId must match ^[a-zA-Z0-9_-]{1,128}$');
    const known = networkTokens.get(tokenId);
    if (merchantId !== undefined && !isText(merchantId)) throw new BadRequest('merchantId must be a string');
    if (!known && merchantId === undefined) throw new BadRequest('merchantId is required for a new token');
    const fields = tokenFields(body, '', false);
    const token = upsertNetworkToken(tokenId, (merchantId as string | undefined) ?? known!.merchantId, fields);
    if (known && isText(merchantId)) token.merchantId = merchantId;
    return [known ? 200 : 201, tokenView(token)];
  }

  /**
   * A `/_sim/token-updates` item → planned delivery. `merchants` carries the merchant of tokens created earlier in
   * the same batch, so a whole batch is validated before the model changes.
   */
  function planTokenUpdate(spec: unknown, merchants: Map<string, string>): { planned: Planned; fields: Partial<Record<TokenField, unknown>> } {
    if (!isObject(spec)) throw new BadRequest('each token update must be an object');
    const { tokenId } = spec;
    if (typeof tokenId !== 'string' || !TOKEN_ID.test(tokenId)) throw new BadRequest('tokenId must match ^[a-zA-Z0-9_-]{1,128}$');
    if (spec.merchantId !== undefined && !isText(spec.merchantId)) throw new BadRequest('merchantId must be a string');
    const merchantId = (spec.merchantId as string | undefined) ?? merchants.get(tokenId) ?? networkTokens.get(tokenId)?.merchantId;
    if (!merchantId) throw new BadRequest(`merchantId is required for unknown token ${tokenId}`);
    merchants.set(tokenId, merchantId);
    if (spec.changes !== undefined && !isObject(spec.changes)) throw new BadRequest('changes must be an object');
    const fields = tokenFields(spec.changes ?? {}, 'changes.', true);
    if (spec.lastUpdateTimestamp !== undefined && !isText(spec.lastUpdateTimestamp)) throw new BadRequest('lastUpdateTimestamp must be a string');
    if (spec.correlationId !== undefined && !isText(spec.correlationId)) throw new BadRequest('correlationId must be a string');
    if (spec.delivery !== undefined && !isObject(spec.delivery)) throw new BadRequest('delivery must be an object');
    const delivery = spec.delivery ?? {};
    const apiKey = delivery.apiKey ?? 'valid';
    if (!['valid', 'wrong', 'missing'].includes(apiKey as string)) throw new BadRequest('delivery.apiKey must be valid, wrong or missing');
    return {
      fields,
      planned: {
        kind: 'token-update',
        correlationId: isText(spec.correlationId) ? spec.correlationId : randomUUID(),
        body: { tokenId, merchantId, lastUpdateTimestamp: spec.lastUpdateTimestamp ?? nextTimestamp(), ...fields },
        copies: 1 + count(delivery.duplicate, 'delivery.duplicate'),
        delayMs: count(delivery.delayMs, 'delivery.delayMs'),
        concurrent: delivery.concurrent === true,
        ...(apiKey !== 'valid' ? { apiKey: apiKey as 'wrong' | 'missing' } : {}),
      },
    };
  }

  /** The change happened at the TSP: D1's model moves before (and whether or not) we acknowledge it. */
  const applyTokenUpdate = ({ planned, fields }: ReturnType<typeof planTokenUpdate>): void => {
    upsertNetworkToken(String(planned.body.tokenId), String(planned.body.merchantId), fields);
  };

  // ---- Issuer Gateway endpoints ----

  /** IGW error body `errorRes` (d1-api.md §2.1). */
  const igwError = (responseCode: number, errorMessage: string): [number, Json] => [400, { responseCode, errorMessage }];

  /** Headers every IGW method requires; undefined when they are fine. */
  function checkHeaders(req: IncomingMessage): [number, Json] | undefined {
    const correlationId = header(req, 'x-correlation-id');
    const issuerId = header(req, 'x-issuer-id');
    const missing = [!correlationId && 'x-correlation-id', !issuerId && 'x-issuer-id'].filter(Boolean);
    if (missing.length) return igwError(111, `Missing mandatory parameter: ${missing.join(', ')}`);
    if (correlationId!.length > 64 || issuerId!.length !== 10) return igwError(112, 'Bad parameter format: x-correlation-id or x-issuer-id');
    if (issuerId !== opts.issuerId) return igwError(113, 'Unknown issuer');
    return undefined;
  }

  function takeUpdateFault(): UpdateFault {
    const fault = updateFault;
    if (fault.times !== undefined && --fault.times <= 0) updateFault = { mode: 'ok' };
    return fault;
  }

  function takeCallbackFault(): CallbackFault {
    const fault = callbackFault;
    if (fault.times !== undefined && --fault.times <= 0) callbackFault = {};
    return fault;
  }

  /** Returns the answer, or undefined to hold the request open (`timeout` fault). */
  async function updateCardState(req: IncomingMessage, body: Json): Promise<[number, Json] | undefined> {
    const headerError = checkHeaders(req);
    if (headerError) return headerError;
    const { issuerCardRefId: cardId, virtualCardId, action } = body;
    const missing = [!isText(cardId) && 'issuerCardRefId', !isText(action) && 'action'].filter(Boolean);
    if (missing.length) return igwError(111, `Missing mandatory parameter: ${missing.join(', ')}`);
    if (!LCM_ACTIONS.includes(action as string)) return igwError(112, 'Bad parameter format: action');
    if (virtualCardId !== undefined && !isText(virtualCardId)) return igwError(112, 'Bad parameter format: virtualCardId');

    const fault = takeUpdateFault();
    switch (fault.mode) {
      case 'timeout': return undefined;
      case 'http500': return [500, { responseCode: fault.responseCode ?? 921, errorMessage: 'Unexpected server error' }];
      case 'http429': return [429, { responseCode: fault.responseCode ?? 921, errorMessage: 'Too many requests' }];
      case 'reject400': return igwError(fault.responseCode ?? 911, 'Operation failed');
      case 'ok': break;
    }

    const tokens = [...(cards.get(cardId as string)?.values() ?? [])];
    let targets: SimToken[];
    if (virtualCardId === undefined) {
      targets = tokens.filter((t) => !TERMINAL.includes(t.status)); // card scope; an unknown card has no tokens
    } else {
      const token = tokens.find((t) => t.virtualCardId === virtualCardId);
      if (!token) return igwError(119, 'Unknown virtual card');
      if (TERMINAL.includes(token.status)) return igwError(432, 'Operation is not allowed with current card state');
      targets = [token];
    }

    const cbFault = takeCallbackFault();
    const failed = typeof cbFault.errorCode === 'number';
    if (!failed) for (const t of targets) t.status = STATUS_AFTER[action as string]!; // D1's truth moves even if the callback is dropped
    const correlationId = header(req, 'x-correlation-id')!;
    const plan: Planned[] = cbFault.drop ? [] : targets.map((t) => ({
      kind: 'callback' as const,
      correlationId,
      body: {
        issuerCardRefId: cardId, virtualCardId: t.virtualCardId, walletProviderId: t.walletProviderId, action,
        source: 'ISSUER', isPrimary: true, ...(failed ? { errorCode: cbFault.errorCode } : {}),
      },
      copies: 1 + (cbFault.duplicate ?? 0),
      delayMs: cbFault.delayMs ?? 0,
      concurrent: false,
    }));
    if (cbFault.reorder) plan.reverse();
    log(`updateCardState ${String(action)} ${String(cardId)}${virtualCardId ? `/${String(virtualCardId)}` : ' (card)'}` +
      ` x-correlation-id=${correlationId} -> ${plan.length} callback(s)${cbFault.drop ? ' dropped' : ''}`);
    if (cbFault.beforeAnswer) await track(run(plan));
    else void track(run(plan));
    return [200, {}];
  }

  function getCardInfo(req: IncomingMessage, body: Json): [number, Json] {
    const headerError = checkHeaders(req);
    if (headerError) return headerError;
    const cardId = body.issuerCardRefId;
    if (!isText(cardId)) return igwError(111, 'Missing mandatory parameter: issuerCardRefId');
    // An unknown card lists no tokens, so reconciliation can see tokens D1 "no longer lists".
    const virtualCardList = [...(cards.get(cardId)?.values() ?? [])].map((t) => ({
      virtualCardId: t.virtualCardId,
      issuerCardRefId: cardId,
      walletProviderId: t.walletProviderId,
      deviceInformation: { deviceId: `sim-device-${t.virtualCardId}`, deviceType: 'MOBILE_PHONE', deviceName: 'Simulated phone' },
      status: t.status,
    }));
    return [200, { issuerCardRefId: cardId, virtualCardList }];
  }

  // ---- COF (merchant) endpoint: Create Transaction ----

  const cofError = (status: number, errorCode: string, errorMessage: string): [number, Json] => [status, { errorCode, errorMessage }];

  function takeTransactionFault(): TransactionFault {
    const fault = transactionFault;
    if (fault.times !== undefined && --fault.times <= 0) transactionFault = { mode: 'ok' };
    return fault;
  }

  /** `authorization: APIKEY <key>`, compared in constant time; undefined when accepted. */
  function checkApiKey(req: IncomingMessage): [number, Json] | undefined {
    const presented = /^APIKEY\s+(\S.*)$/i.exec(header(req, 'authorization') ?? '')?.[1];
    const ok = presented !== undefined && (opts.cofApiKey === undefined || sameSecret(presented, opts.cofApiKey));
    return ok ? undefined : cofError(401, 'UNAUTHORIZED', 'missing or invalid API key');
  }

  /** Returns the answer, or undefined to hold the request open (`timeout` fault). */
  async function createTransaction(req: IncomingMessage, body: unknown): Promise<[number, Json] | undefined> {
    const unauthorized = checkApiKey(req);
    if (unauthorized) return unauthorized;
    const correlationId = header(req, 'x-correlation-id');
    if (!correlationId || correlationId.length > 64) return cofError(400, 'INVALID_HEADER', 'x-correlation-id is required (1–64 chars)');
    if (!isObject(body)) return cofError(400, 'INVALID_REQUEST', 'body must be a JSON object');
    const { tokenId, transactionType } = body;
    if (typeof tokenId !== 'string' || !TOKEN_ID.test(tokenId)) return cofError(400, 'INVALID_REQUEST', 'tokenId must match ^[a-zA-Z0-9_-]{1,128}$');
    if (!isText(transactionType) || transactionType.length > 64) return cofError(400, 'INVALID_REQUEST', 'transactionType is required (1–64 chars)');

    const fault = takeTransactionFault();
    switch (fault.mode) {
      case 'timeout': return undefined;
      case 'http400': return cofError(400, 'INVALID_REQUEST', 'Bad request (simulated)');
      case 'http404': return cofError(404, 'TOKEN_NOT_FOUND', 'Token not found (simulated)');
      case 'http500': return cofError(500, 'INTERNAL_ERROR', 'Internal server error (simulated)');
      case 'http503': return cofError(503, 'SERVICE_UNAVAILABLE', 'Service unavailable (simulated)');
      case 'ok': case 'badJwe': break;
    }

    const token = networkTokens.get(tokenId);
    if (!token) return cofError(404, 'TOKEN_NOT_FOUND', `unknown token ${tokenId}`);
    if (token.tokenState === 'DELETED') return cofError(400, 'TOKEN_DELETED', 'the token is deleted');
    if (token.tokenState === 'SUSPENDED') return cofError(400, 'TOKEN_SUSPENDED', 'the token is suspended');
    if (!jweKey) {
      log('createTransaction: no trJwePublicKey configured (TR_JWE_PUBLIC_KEY), cannot encrypt');
      return cofError(500, 'INTERNAL_ERROR', 'simulator has no token-requestor public key (trJwePublicKey)');
    }
    const plaintext = JSON.stringify({
      tokenPan: tokenPan(token.tokenId, token.panGeneration, token.tokenLastDigits),
      tokenExpiryDate: token.tokenExpiryDate,
      cryptogram: randomBytes(21).toString('base64'),
    });
    let encryptedData = await new jose.CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: TR_JWE_KID })
      .encrypt(jweKey);
    if (fault.mode === 'badJwe') {
      // Same shape and header, but a wrong authentication tag: decryption must fail.
      const parts = encryptedData.split('.');
      parts[4] = randomBytes(16).toString('base64url');
      encryptedData = parts.join('.');
    }
    const transactionId = randomUUID();
    log(`createTransaction ${tokenId} ${transactionType} x-correlation-id=${correlationId} -> 201 ${transactionId}` +
      `${fault.mode === 'badJwe' ? ' (undecryptable JWE)' : ''}`);
    return [201, {
      transactionId, encryptedData, eci: '05',
      cryptogramExpiryDate: new Date(Date.now() + 10 * 60_000).toISOString(),
    }];
  }

  // ---- control API ----

  function seedCard(body: Json): [number, Json] {
    const cardId = body.issuerCardRefId;
    if (!isText(cardId)) throw new BadRequest('issuerCardRefId is required');
    const tokens = body.tokens ?? [];
    if (!Array.isArray(tokens)) throw new BadRequest('tokens must be an array');
    const parsed = tokens.map((t: unknown): SimToken => {
      if (!isObject(t) || !isText(t.virtualCardId)) throw new BadRequest('tokens[].virtualCardId is required');
      const status = t.status ?? 'RESUMED';
      if (typeof status !== 'string' || !STATUSES.includes(status)) throw new BadRequest(`tokens[].status must be one of ${STATUSES.join(', ')}`);
      return { virtualCardId: t.virtualCardId, walletProviderId: isText(t.walletProviderId) ? t.walletProviderId : 'APPLE_PAY', status: status as D1TokenStatus };
    });
    if (!cards.has(cardId)) cards.set(cardId, new Map());
    for (const t of parsed) upsertToken(cardId, t);
    return [201, cardView(cardId)];
  }

  function setFaults(body: Json): [number, Json] {
    if (body.updateCardState !== undefined) {
      const f = body.updateCardState;
      const modes: readonly string[] = ['ok', 'http500', 'http429', 'timeout', 'reject400'];
      if (!isObject(f) || typeof f.mode !== 'string' || !modes.includes(f.mode)) throw new BadRequest(`updateCardState.mode must be one of ${modes.join(', ')}`);
      if (f.responseCode !== undefined && typeof f.responseCode !== 'number') throw new BadRequest('updateCardState.responseCode must be a number');
      updateFault = {
        mode: f.mode as UpdateFaultMode,
        ...(typeof f.responseCode === 'number' ? { responseCode: f.responseCode } : {}),
        ...(f.times !== undefined ? { times: count(f.times, 'updateCardState.times', 1) } : {}),
      };
    }
    if (body.callbacks !== undefined) {
      const f = body.callbacks;
      if (!isObject(f)) throw new BadRequest('callbacks must be an object');
      if (f.errorCode != null && typeof f.errorCode !== 'number') throw new BadRequest('callbacks.errorCode must be a number or null');
      callbackFault = {
        duplicate: count(f.duplicate, 'callbacks.duplicate'),
        delayMs: count(f.delayMs, 'callbacks.delayMs'),
        reorder: f.reorder === true,
        errorCode: typeof f.errorCode === 'number' ? f.errorCode : null,
        drop: f.drop === true,
        beforeAnswer: f.beforeAnswer === true,
        ...(f.times !== undefined ? { times: count(f.times, 'callbacks.times', 1) } : {}),
      };
    }
    if (body.transactions !== undefined) {
      const f = body.transactions;
      if (!isObject(f) || typeof f.mode !== 'string' || !TRANSACTION_MODES.includes(f.mode)) {
        throw new BadRequest(`transactions.mode must be one of ${TRANSACTION_MODES.join(', ')}`);
      }
      transactionFault = {
        mode: f.mode as TransactionFaultMode,
        ...(f.times !== undefined ? { times: count(f.times, 'transactions.times', 1) } : {}),
      };
    }
    return [200, faultsView()];
  }

  const faultsView = (): Json => ({ updateCardState: updateFault, callbacks: callbackFault, transactions: transactionFault });

  async function sendCallbacks(plan: Planned[], wait: boolean, extra: Json): Promise<[number, Json]> {
    const total = plan.reduce((n, p) => n + p.copies, 0);
    if (!wait) {
      void track(run(plan));
      return [202, { ...extra, deliveries: total }];
    }
    const done = await track(run(plan));
    return [200, { ...extra, deliveries: total, statuses: done.map((d) => d.status) }];
  }

  function reset(): void {
    cards.clear();
    requests = [];
    deliveries = [];
    updateFault = { mode: 'ok' };
    callbackFault = {};
    networkTokens.clear();
    transactionFault = { mode: 'ok' };
  }

  // ---- routing ----

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const wait = url.searchParams.get('wait') === 'true';
    const answer = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const notFound = (): void => answer(404, { error: { code: 'NOT_FOUND', message: `no route ${method} ${path}` } });

    // Issuer Gateway methods, with or without D1's /gtep/igwapi/v2.0 prefix in the configured base URL.
    const igw = /^(?:\/gtep\/igwapi\/v2\.0)?\/(updateCardState|getCardInfo)$/.exec(path)?.[1];
    if (igw) {
      if (method !== 'POST') return void res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' })
        .end(JSON.stringify({ responseCode: 112, errorMessage: 'method not allowed' }));
      const raw = await readBody(req);
      const record: RequestRecord = {
        method, path,
        headers: { 'x-correlation-id': header(req, 'x-correlation-id') ?? null, 'x-issuer-id': header(req, 'x-issuer-id') ?? null },
        body: raw.json ?? raw.text, status: null, at: new Date().toISOString(),
      };
      requests.push(record);
      let result: [number, Json] | undefined;
      if (raw.tooLarge) result = igwError(112, 'Bad parameter format: body too large');
      else if (!isObject(raw.json)) result = igwError(112, 'Bad parameter format: body must be a JSON object');
      else result = igw === 'updateCardState' ? await updateCardState(req, raw.json) : getCardInfo(req, raw.json);
      if (!result) return log(`updateCardState held open (timeout fault) x-correlation-id=${record.headers['x-correlation-id']}`);
      record.status = result[0];
      return answer(...result);
    }

    // COF Create Transaction, with or without the /tsh-cof prefix in the configured base URL.
    if (/^(?:\/tsh-cof)?\/transactions$/.test(path)) {
      if (method !== 'POST') return void res.writeHead(405, { allow: 'POST', 'content-type': 'application/json' })
        .end(JSON.stringify({ errorCode: 'METHOD_NOT_ALLOWED', errorMessage: 'method not allowed' }));
      const raw = await readBody(req);
      const authorization = header(req, 'authorization');
      const record: RequestRecord = {
        method, path,
        headers: {
          'x-correlation-id': header(req, 'x-correlation-id') ?? null,
          authorization: authorization === undefined ? null : /^APIKEY\s/i.test(authorization) ? 'APIKEY ***' : '***',
        },
        body: raw.json ?? raw.text, status: null, at: new Date().toISOString(),
      };
      requests.push(record);
      const result = raw.tooLarge ? cofError(413, 'INVALID_REQUEST', 'body too large') : await createTransaction(req, raw.json);
      if (!result) return log(`createTransaction held open (timeout fault) x-correlation-id=${record.headers['x-correlation-id']}`);
      record.status = result[0];
      return answer(...result);
    }

    if (!path.startsWith('/_sim/')) return notFound();
    const key = `${method} ${path.replace(/^\/_sim\/cards\/.+$/, '/_sim/cards/{id}').replace(/^\/_sim\/network-tokens\/.+$/, '/_sim/network-tokens/{id}')}`;
    const readJson = async (): Promise<Json> => {
      const raw = await readBody(req);
      if (raw.tooLarge) throw new BadRequest('body too large');
      if (raw.text === '') return {};
      if (!isObject(raw.json)) throw new BadRequest('body must be a JSON object');
      return raw.json;
    };
    switch (key) {
      case 'GET /_sim/health': return answer(200, { status: 'ok' });
      case 'POST /_sim/reset': reset(); return answer(200, {});
      case 'GET /_sim/cards': return answer(200, { cards: [...cards.keys()].map(cardView) });
      case 'POST /_sim/cards': return answer(...seedCard(await readJson()));
      case 'GET /_sim/cards/{id}': {
        const id = decodeURIComponent(path.slice('/_sim/cards/'.length));
        return cards.has(id) ? answer(200, cardView(id)) : notFound();
      }
      case 'POST /_sim/callbacks': {
        const planned = planCallback(await readJson());
        applyPlanned(planned);
        return answer(...(await sendCallbacks([planned], wait, { correlationId: planned.correlationId })));
      }
      case 'POST /_sim/callbacks/batch': {
        const body = await readJson();
        if (!Array.isArray(body.callbacks)) throw new BadRequest('callbacks must be an array');
        const order = body.order ?? 'as-given';
        if (!['as-given', 'reverse', 'shuffle'].includes(order as string)) throw new BadRequest('order must be as-given, reverse or shuffle');
        // The model changes in the given order (what happened); only the delivery order differs.
        const plan = body.callbacks.map(planCallback); // all validated before anything changes
        plan.forEach(applyPlanned);
        if (order === 'reverse') plan.reverse();
        if (order === 'shuffle') shuffle(plan);
        const sent = plan.map((p) => ({ correlationId: p.correlationId, virtualCardId: p.body.virtualCardId, action: p.body.action }));
        return answer(...(await sendCallbacks(plan, wait, { order: sent })));
      }
      case 'GET /_sim/network-tokens': return answer(200, { tokens: [...networkTokens.values()].map(tokenView) });
      case 'POST /_sim/network-tokens': return answer(...seedNetworkToken(await readJson()));
      case 'GET /_sim/network-tokens/{id}': {
        const token = networkTokens.get(decodeURIComponent(path.slice('/_sim/network-tokens/'.length)));
        return token ? answer(200, tokenView(token)) : notFound();
      }
      case 'POST /_sim/token-updates': {
        const item = planTokenUpdate(await readJson(), new Map());
        applyTokenUpdate(item);
        return answer(...(await sendCallbacks([item.planned], wait, { correlationId: item.planned.correlationId })));
      }
      case 'POST /_sim/token-updates/batch': {
        const body = await readJson();
        if (!Array.isArray(body.updates)) throw new BadRequest('updates must be an array');
        const order = body.order ?? 'as-given';
        if (!['as-given', 'reverse', 'shuffle'].includes(order as string)) throw new BadRequest('order must be as-given, reverse or shuffle');
        // Validated first; the model changes in the given order (what happened), only the delivery order differs.
        const merchants = new Map<string, string>();
        const items = body.updates.map((u: unknown) => planTokenUpdate(u, merchants));
        items.forEach(applyTokenUpdate);
        const plan = items.map((i) => i.planned);
        if (order === 'reverse') plan.reverse();
        if (order === 'shuffle') shuffle(plan);
        const sent = plan.map((p) => ({ correlationId: p.correlationId, tokenId: p.body.tokenId, lastUpdateTimestamp: p.body.lastUpdateTimestamp }));
        return answer(...(await sendCallbacks(plan, wait, { order: sent })));
      }
      case 'GET /_sim/faults': return answer(200, faultsView());
      case 'POST /_sim/faults': return answer(...setFaults(await readJson()));
      case 'DELETE /_sim/faults': updateFault = { mode: 'ok' }; callbackFault = {}; transactionFault = { mode: 'ok' }; return answer(200, {});
      case 'GET /_sim/requests': return answer(200, { requests });
      case 'DELETE /_sim/requests': requests = []; return answer(200, {});
      case 'GET /_sim/deliveries': return answer(200, { deliveries });
      case 'DELETE /_sim/deliveries': deliveries = []; return answer(200, {});
      default: return notFound();
    }
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (res.headersSent) return;
      const bad = err instanceof BadRequest;
      res.writeHead(bad ? 400 : 500, { 'content-type': 'application/json' }).end(JSON.stringify({
        error: { code: bad ? 'VALIDATION_FAILED' : 'INTERNAL', message: bad ? err.message : 'simulator error' },
      }));
      if (!bad) log(`internal error: ${(err as Error).message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  log(`D1 simulator on ${url}, callbacks to ${typeof opts.serviceBaseUrl === 'function' ? '(set later)' : webhookUrl()}, token updates to ${typeof opts.serviceBaseUrl === 'function' ? '(set later)' : tokenUpdateUrl()}` +
    `${opts.trApiKey === undefined ? ' (no trApiKey: sent without authorization)' : ''}` +
    `${jweKey ? '' : ' (no trJwePublicKey: Create Transaction answers 500)'}`);

  return {
    url,
    port,
    async idle() {
      // Loop: a finishing delivery plan can't add new ones, but a request arriving meanwhile can.
      while (pending.size) await Promise.allSettled([...pending]);
    },
    reset,
    async stop() {
      stopper.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // includes requests held open by the timeout fault
      await Promise.allSettled([...pending]);
      await closed;
    },
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v) || undefined;
}

async function readBody(req: IncomingMessage): Promise<{ text: string; json?: unknown; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY) return { text: '', tooLarge: true };
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return { text, json: JSON.parse(text) as unknown, tooLarge: false };
  } catch {
    return { text, tooLarge: false };
  }
}

/** Accepts SPKI or PKCS#8 PEM (the public half of a private key), real or `\n`-escaped newlines, or a KeyObject. */
function toPublicKey(key: string | KeyObject): KeyObject {
  const publicKey = typeof key === 'string' ? createPublicKey(key.replace(/\\n/g, '\n')) : key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'rsa') throw new Error('trJwePublicKey must be an RSA key');
  return publicKey;
}

const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/**
 * A 16-digit, Luhn-valid token PAN, the same for the same (tokenId, generation), ending in `lastDigits` when given
 * (the digit just before them is chosen to make the Luhn sum work). Without `lastDigits` the last digit is the
 * ordinary check digit, and `tokenPan(id, g, tokenPan(id, g).slice(-4))` is that same PAN.
 */
export function tokenPan(tokenId: string, generation: number, lastDigits?: string): string {
  const seed = createHash('sha256').update(`${tokenId}:${generation}`).digest();
  const digits = ['4', ...Array.from(seed.subarray(0, 15), (b) => String(b % 10))];
  const suffix = lastDigits ?? '';
  digits.splice(16 - suffix.length, suffix.length, ...suffix);
  const free = 15 - suffix.length; // the check digit, or the one before the fixed suffix
  for (let d = 0; d <= 9; d++) {
    digits[free] = String(d);
    if (luhnValid(digits.join(''))) break;
  }
  return digits.join('');
}

/** MMYY three years from now. */
function defaultExpiry(): string {
  const now = new Date();
  return `${String(now.getUTCMonth() + 1).padStart(2, '0')}${String((now.getUTCFullYear() + 3) % 100).padStart(2, '0')}`;
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

/**
 * Standalone: `npx tsx local/d1-simulator.ts` (env D1_SIM_PORT, ISSUER_ID, SERVICE_BASE_URL, TR_API_KEY,
 * D1_COF_API_KEY, TR_JWE_PUBLIC_KEY — PEM; without it the public half of TR_JWE_PRIVATE_KEY is used).
 */
if (import.meta.main) {
  const env = process.env;
  const jweKey = env.TR_JWE_PUBLIC_KEY || env.TR_JWE_PRIVATE_KEY;
  void startD1Simulator({
    port: Number(env.D1_SIM_PORT ?? 3100),
    issuerId: env.ISSUER_ID ?? 'ISSUER0001',
    serviceBaseUrl: env.SERVICE_BASE_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`,
    trApiKey: env.TR_API_KEY ?? 'local-tr-key',
    cofApiKey: env.D1_COF_API_KEY ?? 'local-cof-key',
    ...(jweKey ? { trJwePublicKey: jweKey } : {}),
    log: (line) => console.log(`[d1-sim] ${line}`),
  }).then((sim) => {
    const stop = (): void => void sim.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
