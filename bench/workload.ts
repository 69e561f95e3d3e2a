/**
 * What the bench sends, and what the table must hold afterwards.
 *
 * Deliveries are shuffled and sent 32 at a time through standard queues, so the order in which callbacks of one
 * token are applied is not known. Every token therefore gets a *script* whose end state is the same in any order
 * (DESIGN §2): only ACTIVATE/RESUME/RENEW → ACTIVE; SUSPEND/RENEW → SUSPENDED; anything with a DELETE → DELETED
 * (terminal; its renewal count then depends on the order and is not checked); only failed callbacks and unknown
 * actions → never created. Failed (errorCode) and unknown-action callbacks are mixed in everywhere: they must be
 * recorded in the history without touching the token. The oracle below is written from the rules, not from the
 * product's domain code.
 */
import { callbackKey } from './protocol';
import { shuffle } from './stats';

export interface Delivery {
  key: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

// ------------------------------------------------------------------------------------------------------------
// Issuer side: notifyVirtualCardChange

export const CALLBACK_PATH = '/issuer/igwapi/v2.0/notifyVirtualCardChange';

interface ScriptStep {
  action: string;
  errorCode: number | null;
}

export interface ExpectedToken {
  virtualCardId: string;
  exists: boolean;
  state: 'ACTIVE' | 'SUSPENDED' | 'DELETED' | null;
  /** null: depends on the arrival order, not checked. */
  renewals: number | null;
  /** One history event per distinct callback, whatever its outcome; duplicates add none. */
  events: number;
}

export interface CallbackWorkload {
  deliveries: Delivery[];
  /** The first delivery of every distinct callback, in generation order. */
  distinct: Delivery[];
  duplicates: number;
  expected: ExpectedToken[];
}

const failed = (action: string): ScriptStep => ({ action, errorCode: 221 });
const ok = (action: string): ScriptStep => ({ action, errorCode: null });
const UNKNOWN_ACTION = 'BENCH_UNKNOWN_ACTION';

/** A token's callbacks; each script leaves the same end state in any order (see the module comment). */
function tokenScript(random: () => number): ScriptStep[] {
  const renewals = Array.from({ length: Math.floor(random() * 3) }, () => ok('RENEW'));
  const extras = [...(random() < 0.5 ? [failed('SUSPEND')] : []), ...(random() < 0.3 ? [ok(UNKNOWN_ACTION)] : [])];
  const kind = random();
  if (kind < 0.45) return [ok('ACTIVATE'), ...(random() < 0.5 ? [ok('RESUME')] : []), ...renewals, ...extras];
  if (kind < 0.7) return [ok('SUSPEND'), ok('SUSPEND'), ...renewals, failed('RESUME'), ...extras];
  if (kind < 0.92) return [ok('ACTIVATE'), ok('SUSPEND'), ok(random() < 0.5 ? 'DELETE' : 'DELETE_FROM_APP'), ...renewals, ...extras];
  return [failed('ACTIVATE'), ok(UNKNOWN_ACTION)];
}

function callbackDelivery(prefix: string, card: string, virtualCardId: string, correlationId: string, step: ScriptStep): Delivery {
  const body = {
    issuerCardRefId: card,
    virtualCardId,
    action: step.action,
    walletProviderId: 'APPLE_PAY',
    source: 'WALLET',
    ...(step.errorCode !== null ? { errorCode: step.errorCode } : {}),
    // D1 sends card data here; the webhook validates it and drops it (never queued): it is part of the request size.
    tokenInfo: { tokenNumber: '4895370012345678', expiryDate: '1228', tokenRefId: `${prefix}-ref` },
  };
  return {
    key: callbackKey({ correlationId, virtualCardId, action: step.action, errorCode: step.errorCode }),
    path: CALLBACK_PATH,
    headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId, 'x-issuer-id': 'ISSUER0001' },
    body: JSON.stringify(body),
  };
}

/**
 * `total` deliveries: `duplicateShare` of them re-deliveries of a random earlier callback (same correlation id,
 * token, action, errorCode → rule 2), the rest distinct; shuffled.
 */
export function callbackWorkload(options: { prefix: string; total: number; duplicateShare: number; random: () => number }): CallbackWorkload {
  const { prefix, total, random } = options;
  const duplicates = Math.round(total * options.duplicateShare);
  const distinctTarget = total - duplicates;
  const distinct: Delivery[] = [];
  const expected: ExpectedToken[] = [];
  for (let tokenIndex = 0; distinct.length < distinctTarget; tokenIndex++) {
    const virtualCardId = `${prefix}-vc-${tokenIndex}`;
    const card = `${prefix}-card-${Math.floor(tokenIndex / 2)}`;
    const room = distinctTarget - distinct.length;
    let steps = tokenScript(random);
    // A prefix of a script may not be order-independent (ACTIVATE + SUSPEND): fill the rest with a plain one.
    if (steps.length > room) steps = [ok('ACTIVATE'), ...Array.from({ length: room - 1 }, () => ok('RENEW'))];
    steps.forEach((step, i) => distinct.push(callbackDelivery(prefix, card, virtualCardId, `${prefix}-${tokenIndex}-${i}`, step)));
    expected.push(expectedFor(virtualCardId, steps));
  }
  const copies = Array.from({ length: duplicates }, () => distinct[Math.floor(random() * distinct.length)]!);
  return { deliveries: shuffle([...distinct, ...copies], random), distinct, duplicates, expected };
}

/**
 * Steady state, as in production: the tokens are known before the measured callbacks arrive. `learn` teaches the
 * service `tokens` tokens (one ACTIVATE each, every one creating a token); `renew` is then one RENEW per token,
 * shuffled, no duplicates, so every measured callback lands on a known token and none races another on one token.
 */
export function steadyStateWorkload(options: { prefix: string; tokens: number; random: () => number }): {
  learn: Delivery[];
  renew: Delivery[];
  expected: ExpectedToken[];
} {
  const { prefix, tokens, random } = options;
  const learn: Delivery[] = [];
  const renew: Delivery[] = [];
  const expected: ExpectedToken[] = [];
  for (let i = 0; i < tokens; i++) {
    const virtualCardId = `${prefix}-vc-${i}`;
    const card = `${prefix}-card-${Math.floor(i / 2)}`;
    learn.push(callbackDelivery(prefix, card, virtualCardId, `${prefix}-${i}-learn`, ok('ACTIVATE')));
    renew.push(callbackDelivery(prefix, card, virtualCardId, `${prefix}-${i}-renew`, ok('RENEW')));
    expected.push(expectedFor(virtualCardId, [ok('ACTIVATE'), ok('RENEW')]));
  }
  return { learn: shuffle(learn, random), renew: shuffle(renew, random), expected };
}

/**
 * The oracle (DESIGN §2): duplicates add nothing (rule 2); failed callbacks and unknown actions change nothing and
 * create nothing (rules 3, 7); a known success creates the token (rule 6); DELETED is terminal (rule 4), so a
 * deleted token's renewal count depends on the order and is not checked; RENEW keeps the state (rule 7).
 */
function expectedFor(virtualCardId: string, steps: readonly ScriptStep[]): ExpectedToken {
  const applied = steps.filter((s) => s.errorCode === null && s.action !== UNKNOWN_ACTION);
  if (applied.length === 0) return { virtualCardId, exists: false, state: null, renewals: 0, events: steps.length };
  const actions = new Set(applied.map((s) => s.action));
  const state = actions.has('DELETE') || actions.has('DELETE_FROM_APP') ? 'DELETED' : actions.has('SUSPEND') ? 'SUSPENDED' : 'ACTIVE';
  const renewals = state === 'DELETED' ? null : applied.filter((s) => s.action === 'RENEW').length;
  return { virtualCardId, exists: true, state, renewals, events: steps.length };
}

// ------------------------------------------------------------------------------------------------------------
// Merchant side: notify-token-update

export const TOKEN_UPDATE_PATH = '/tsh-cof/notify-token-update';

export interface ExpectedNetworkToken {
  tokenId: string;
  state: 'ACTIVE' | 'SUSPENDED' | 'DELETED';
  lastUpdateTimestamp: number;
  tokenLastDigits: string;
}

export interface TokenUpdateWorkload {
  deliveries: Delivery[];
  distinct: Delivery[];
  duplicates: number;
  expected: ExpectedNetworkToken[];
}

/**
 * Every update carries every field, so the newest one decides the end state in any order (rule 10: an older
 * update arriving later is STALE and ignored whole). Only the newest may be DELETED: a DELETED that arrives first
 * would otherwise pin the state (terminal) against a newer update, and the end state would depend on the order.
 */
export function tokenUpdateWorkload(options: {
  prefix: string;
  total: number;
  duplicateShare: number;
  apiKey: string;
  random: () => number;
}): TokenUpdateWorkload {
  const { prefix, total, random } = options;
  const duplicates = Math.round(total * options.duplicateShare);
  const distinctTarget = total - duplicates;
  const distinct: Delivery[] = [];
  const expected: ExpectedNetworkToken[] = [];
  const base = Date.UTC(2026, 0, 1);
  for (let tokenIndex = 0; distinct.length < distinctTarget; tokenIndex++) {
    const tokenId = `${prefix}-t-${tokenIndex}`;
    const updates = Math.min(2 + Math.floor(random() * 5), distinctTarget - distinct.length);
    let last: ExpectedNetworkToken | undefined;
    for (let i = 0; i < updates; i++) {
      const newest = i === updates - 1;
      const states = newest ? (['ACTIVE', 'SUSPENDED', 'DELETED'] as const) : (['ACTIVE', 'SUSPENDED'] as const);
      const state = states[Math.floor(random() * states.length)]!;
      const lastUpdateTimestamp = base + tokenIndex * 1000 + i * 7;
      const tokenLastDigits = String(1000 + Math.floor(random() * 9000));
      const body = {
        tokenId,
        merchantId: `${prefix}-m`,
        lastUpdateTimestamp: new Date(lastUpdateTimestamp).toISOString(),
        tokenState: state,
        tokenLastDigits,
        tokenExpiryDate: '1229',
        cardLastDigits: '4242',
        cardExpiryDate: '0930',
        cardBin: '453421',
        par: 'V0010013020217123456789012345'.slice(0, 29),
      };
      distinct.push({
        key: callbackKey({ tokenId, lastUpdateTimestamp }),
        path: TOKEN_UPDATE_PATH,
        headers: { 'content-type': 'application/json', 'x-correlation-id': `${tokenId}-${i}`, authorization: `APIKEY ${options.apiKey}` },
        body: JSON.stringify(body),
      });
      if (newest) last = { tokenId, state, lastUpdateTimestamp, tokenLastDigits };
    }
    expected.push(last!);
  }
  const copies = Array.from({ length: duplicates }, () => distinct[Math.floor(random() * distinct.length)]!);
  return { deliveries: shuffle([...distinct, ...copies], random), distinct, duplicates, expected };
}
