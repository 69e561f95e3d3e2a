import type { Token, TokenState } from '../../lambdas/domain/token';
import {
  applyVirtualCardChange,
  changeSource,
  dedupeKey,
  isKnownAction,
  KNOWN_ACTIONS,
  type OperationRef,
  type VirtualCardChange,
} from '../../lambdas/domain/virtual-card-change';
import { ORACLE_KNOWN_ACTIONS } from '../support/callback-oracle';
import { deepFreeze } from '../support/freeze';
import { storedToken } from '../support/tokens';

/** Pure domain: no I/O. Every input is deep-frozen, so an in-place mutation by the product throws. */

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';
const RECEIVED = '2026-03-04T05:06:07.890Z';

function token(state: TokenState, overrides: Partial<Token> = {}): Token {
  return storedToken({ state, renewals: 2, lastRenewedAt: T0, updatedAt: T1, version: 7, ...overrides });
}

function change(overrides: Partial<VirtualCardChange> = {}): VirtualCardChange {
  return deepFreeze({
    correlationId: 'corr-1',
    issuerCardRefId: 'card-1',
    virtualCardId: 'vc-1',
    action: 'ACTIVATE',
    errorCode: null,
    source: 'WALLET',
    walletProviderId: null,
    receivedAt: RECEIVED,
    ...overrides,
  });
}

const op = (order: string, operationId = `op-${order}`): OperationRef => deepFreeze({ operationId, order });

/** A deep copy to compare against after the call: "untouched" means equal content. */
const snapshot = <T>(value: T): T => structuredClone(value);

const STATES: readonly TokenState[] = ['INACTIVE', 'ACTIVE', 'SUSPENDED', 'DELETED'];
const LIVE_STATES: readonly TokenState[] = ['INACTIVE', 'ACTIVE', 'SUSPENDED'];

/** DESIGN §3 "State after a callback", written out as data. */
const TARGET: Record<string, TokenState | 'UNCHANGED'> = {
  ACTIVATE: 'ACTIVE',
  RESUME: 'ACTIVE',
  SUSPEND: 'SUSPENDED',
  DELETE: 'DELETED',
  DELETE_FROM_APP: 'DELETED',
  RENEW: 'UNCHANGED',
};

describe('known actions', () => {
  it('are exactly the six DESIGN §3 names, case-sensitive', () => {
    expect([...KNOWN_ACTIONS].sort()).toEqual([...ORACLE_KNOWN_ACTIONS].sort());
    for (const action of ORACLE_KNOWN_ACTIONS) expect(isKnownAction(action)).toBe(true);
  });

  it.each(['UPDATE', 'activate', 'Resume', 'RENEW ', ' SUSPEND', '', 'DELETED', 'toString', 'constructor', '__proto__', 'hasOwnProperty'])(
    '%j is unknown',
    (action) => expect(isKnownAction(action)).toBe(false),
  );
});

describe('applyVirtualCardChange: every known action from every state (success, external)', () => {
  type Row = { from: TokenState | null; action: string; outcome: string; reason: string | null; state: TokenState; changed: boolean };
  const rows: Row[] = [];
  for (const from of [null, ...STATES]) {
    for (const action of ORACLE_KNOWN_ACTIONS) {
      if (from === 'DELETED') {
        rows.push({ from, action, outcome: 'IGNORED', reason: 'TOKEN_DELETED', state: 'DELETED', changed: false });
      } else {
        const target = TARGET[action]!;
        const state: TokenState = target === 'UNCHANGED' ? (from ?? 'ACTIVE') : target;
        rows.push({ from, action, outcome: 'APPLIED', reason: null, state, changed: true });
      }
    }
  }

  it.each(rows)('$from + $action → $outcome $state', ({ from, action, outcome, reason, state, changed }) => {
    const current = from === null ? null : token(from);
    const before = snapshot(current);
    const decision = applyVirtualCardChange(current, change({ action }));

    expect(decision.outcome).toBe(outcome);
    expect(decision.reason).toBe(reason);
    expect(decision.tokenChanged).toBe(changed);
    expect(decision.token?.state).toBe(state);
    expect(decision.event.outcome).toBe(outcome);
    expect(decision.event.stateAfter).toBe(state);
    expect(current).toEqual(before); // the input is never mutated (also guarded by freezing)

    if (outcome === 'APPLIED') {
      const renewed = action === 'RENEW';
      expect(decision.token).toEqual({
        virtualCardId: 'vc-1',
        issuerCardRefId: 'card-1',
        walletProviderId: from === null ? null : 'APPLE_PAY',
        tokenStorageId: null,
        walletCardRefId: null,
        device: null,
        state,
        lastAction: action,
        lastChangeSource: 'WALLET',
        lastOperationId: null,
        renewals: (from === null ? 0 : 2) + (renewed ? 1 : 0),
        lastRenewedAt: renewed ? RECEIVED : from === null ? null : T0,
        updatedAt: RECEIVED,
        lastOperationOrder: null,
        // A RENEW sets no state: the arrival of the change that did is kept (none for a token first seen by it).
        lastStateChangeAt: renewed ? (from === null ? null : T1) : RECEIVED,
        // The decision carries the version it read; the store bumps it on write.
        version: from === null ? 0 : 7,
      });
    } else {
      expect(decision.token).toEqual(before);
    }
  });
});

describe('RENEW (rule 7)', () => {
  it.each(LIVE_STATES)('keeps %s, counts one renewal and stamps lastRenewedAt', (from) => {
    const decision = applyVirtualCardChange(token(from, { renewals: 4, lastRenewedAt: T0 }), change({ action: 'RENEW' }));
    expect(decision.outcome).toBe('APPLIED');
    expect(decision.token).toMatchObject({ state: from, renewals: 5, lastRenewedAt: RECEIVED, lastAction: 'RENEW', updatedAt: RECEIVED });
  });

  it('a first-seen token is created ACTIVE with one renewal', () => {
    const decision = applyVirtualCardChange(null, change({ action: 'RENEW' }));
    expect(decision.outcome).toBe('APPLIED');
    expect(decision.tokenChanged).toBe(true);
    expect(decision.token).toMatchObject({ state: 'ACTIVE', renewals: 1, lastRenewedAt: RECEIVED, lastAction: 'RENEW' });
    expect(decision.event.stateAfter).toBe('ACTIVE');
  });

  it('other actions keep the renewal count and time', () => {
    const decision = applyVirtualCardChange(token('ACTIVE', { renewals: 3, lastRenewedAt: T0 }), change({ action: 'SUSPEND' }));
    expect(decision.token).toMatchObject({ renewals: 3, lastRenewedAt: T0 });
  });

  it('a failed RENEW records a failed renewal and counts nothing', () => {
    const current = token('ACTIVE', { renewals: 3 });
    const decision = applyVirtualCardChange(current, change({ action: 'RENEW', errorCode: 221 }));
    expect(decision.outcome).toBe('FAILED');
    expect(decision.token).toEqual(snapshot(current));
    expect(decision.event).toMatchObject({ action: 'RENEW', errorCode: 221, outcome: 'FAILED', stateAfter: 'ACTIVE' });
  });
});

describe('failed callbacks (rule 3)', () => {
  const actions = [...ORACLE_KNOWN_ACTIONS];

  it.each(STATES.flatMap((from) => actions.map((action) => ({ from, action }))))(
    '$from + $action with errorCode 221 → FAILED, token content identical',
    ({ from, action }) => {
      const current = token(from);
      const before = snapshot(current);
      const decision = applyVirtualCardChange(current, change({ action, errorCode: 221 }));
      expect(decision.outcome).toBe('FAILED');
      expect(decision.reason).toBeNull();
      expect(decision.tokenChanged).toBe(false);
      expect(decision.token).toEqual(before);
      expect(decision.event).toMatchObject({ outcome: 'FAILED', errorCode: 221, stateAfter: from });
    },
  );

  it.each(actions)('%s with errorCode on an unknown token never creates it', (action) => {
    const decision = applyVirtualCardChange(null, change({ action, errorCode: 221 }));
    expect(decision.outcome).toBe('FAILED');
    expect(decision.token).toBeNull();
    expect(decision.tokenChanged).toBe(false);
    expect(decision.event).toMatchObject({ outcome: 'FAILED', errorCode: 221, stateAfter: null });
  });

  it.each([0, 1, 221, 321])('any errorCode counts as present, even %d', (errorCode) => {
    const decision = applyVirtualCardChange(token('ACTIVE'), change({ action: 'SUSPEND', errorCode }));
    expect(decision.outcome).toBe('FAILED');
    expect(decision.token?.state).toBe('ACTIVE');
  });
});

describe('unknown actions (rule 7)', () => {
  const unknown = ['UPDATE', 'activate', 'Suspend', 'DELETED', 'RENEWAL', '', 'toString', '__proto__'];

  it.each(unknown)('%j on an unknown token → IGNORED UNKNOWN_ACTION, never created', (action) => {
    const decision = applyVirtualCardChange(null, change({ action }));
    expect(decision.outcome).toBe('IGNORED');
    expect(decision.reason).toBe('UNKNOWN_ACTION');
    expect(decision.token).toBeNull();
    expect(decision.tokenChanged).toBe(false);
    expect(decision.event).toMatchObject({ action, outcome: 'IGNORED', stateAfter: null });
  });

  it.each(LIVE_STATES.flatMap((from) => unknown.map((action) => ({ from, action }))))(
    '$from + $action → IGNORED UNKNOWN_ACTION, token untouched',
    ({ from, action }) => {
      const current = token(from);
      const before = snapshot(current);
      const decision = applyVirtualCardChange(current, change({ action }));
      expect(decision.outcome).toBe('IGNORED');
      expect(decision.reason).toBe('UNKNOWN_ACTION');
      expect(decision.token).toEqual(before);
      expect(decision.tokenChanged).toBe(false);
      expect(decision.event).toMatchObject({ action, outcome: 'IGNORED', stateAfter: from });
    },
  );
});

describe('DELETED is terminal (rule 4)', () => {
  it.each([...ORACLE_KNOWN_ACTIONS])('DELETED + %s → IGNORED TOKEN_DELETED (DELETE again included)', (action) => {
    const current = token('DELETED', { lastAction: 'DELETE' });
    const before = snapshot(current);
    const decision = applyVirtualCardChange(current, change({ action, source: 'ISSUER' }));
    expect(decision).toMatchObject({ outcome: 'IGNORED', reason: 'TOKEN_DELETED', tokenChanged: false });
    expect(decision.token).toEqual(before);
    expect(decision.event).toMatchObject({ outcome: 'IGNORED', stateAfter: 'DELETED' });
  });

  it.each([...ORACLE_KNOWN_ACTIONS])('DELETED + %s from one of our operations → IGNORED TOKEN_DELETED', (action) => {
    const current = token('DELETED', { lastOperationOrder: 'a' });
    const decision = applyVirtualCardChange(current, change({ action }), op('z'));
    expect(decision).toMatchObject({ outcome: 'IGNORED', reason: 'TOKEN_DELETED', tokenChanged: false });
    expect(decision.token).toEqual(snapshot(current));
  });

  it('DELETED + unknown action → IGNORED, token untouched (either reason describes it)', () => {
    const current = token('DELETED');
    const decision = applyVirtualCardChange(current, change({ action: 'UPDATE' }));
    expect(decision.outcome).toBe('IGNORED');
    expect(['UNKNOWN_ACTION', 'TOKEN_DELETED']).toContain(decision.reason);
    expect(decision.token).toEqual(snapshot(current));
  });

  it('DELETED + failed callback → FAILED with its code (rule 3: the outcome carries the code), token untouched', () => {
    const current = token('DELETED');
    const decision = applyVirtualCardChange(current, change({ action: 'RESUME', errorCode: 221 }));
    expect(decision.outcome).toBe('FAILED');
    expect(decision.token).toEqual(snapshot(current));
    expect(decision.event).toMatchObject({ errorCode: 221, stateAfter: 'DELETED' });
  });
});

describe('source (rule 6, §3 lastChangeSource)', () => {
  it.each([
    ['WALLET', 'WALLET'],
    ['TSP', 'TSP'],
    ['ISSUER', 'ISSUER'],
    ['wallet', 'UNKNOWN'],
    ['PORTAL', 'UNKNOWN'],
    ['RECONCILIATION', 'UNKNOWN'],
    ['UNKNOWN', 'UNKNOWN'],
    ['', 'UNKNOWN'],
    [null, 'UNKNOWN'],
  ] as const)('external callback with source %j → %s', (source, expected) => {
    expect(changeSource({ source }, null)).toBe(expected);
    const decision = applyVirtualCardChange(token('ACTIVE'), change({ action: 'SUSPEND', source }));
    expect(decision.token?.lastChangeSource).toBe(expected);
    expect(decision.token?.lastOperationId).toBeNull();
    expect(decision.event.source).toBe(expected);
    expect(decision.event.operationId).toBeNull();
  });

  it.each(['WALLET', 'TSP', 'PORTAL', null])('a callback of our operation is ISSUER whatever it says (%j)', (source) => {
    expect(changeSource({ source }, op('b'))).toBe('ISSUER');
    const decision = applyVirtualCardChange(token('ACTIVE'), change({ action: 'SUSPEND', source }), op('b', 'op-42'));
    expect(decision.token).toMatchObject({ lastChangeSource: 'ISSUER', lastOperationId: 'op-42', lastOperationOrder: 'b' });
    expect(decision.event).toMatchObject({ source: 'ISSUER', operationId: 'op-42' });
  });

  it('a failed or ignored callback leaves lastAction/lastChangeSource/lastOperationId as they were', () => {
    const current = token('ACTIVE', { lastAction: 'RESUME', lastChangeSource: 'ISSUER', lastOperationId: 'op-1', lastOperationOrder: 'a' });
    for (const c of [change({ action: 'SUSPEND', errorCode: 221, source: 'TSP' }), change({ action: 'UPDATE', source: 'TSP' })]) {
      const decision = applyVirtualCardChange(current, c);
      expect(decision.token).toMatchObject({ lastAction: 'RESUME', lastChangeSource: 'ISSUER', lastOperationId: 'op-1', lastOperationOrder: 'a' });
    }
  });
});

describe('history event fields', () => {
  it('an applied change records at = receivedAt, the callback ids, errorCode null and the new state', () => {
    const decision = applyVirtualCardChange(token('ACTIVE'), change({ correlationId: 'corr-9', action: 'SUSPEND', source: 'TSP' }));
    expect(decision.event).toEqual({
      at: RECEIVED,
      action: 'SUSPEND',
      source: 'TSP',
      correlationId: 'corr-9',
      operationId: null,
      requestedBy: null,
      errorCode: null,
      outcome: 'APPLIED',
      stateAfter: 'SUSPENDED',
    });
  });

  it('a failed change of our operation records its code and the unchanged state', () => {
    const decision = applyVirtualCardChange(token('SUSPENDED'), change({ correlationId: 'corr-op', action: 'RESUME', errorCode: 221, source: null }), {
      ...op('c', 'op-c'),
      requestedBy: 'cognito:eu-west-1:0b8e',
    });
    expect(decision.event).toEqual({
      at: RECEIVED,
      action: 'RESUME',
      source: 'ISSUER',
      correlationId: 'corr-op',
      operationId: 'op-c',
      requestedBy: 'cognito:eu-west-1:0b8e',
      errorCode: 221,
      outcome: 'FAILED',
      stateAfter: 'SUSPENDED',
    });
  });
});

describe('walletProviderId', () => {
  it('is kept when the callback omits it', () => {
    const decision = applyVirtualCardChange(token('ACTIVE', { walletProviderId: 'GOOGLE_PAY' }), change({ action: 'SUSPEND', walletProviderId: null }));
    expect(decision.token?.walletProviderId).toBe('GOOGLE_PAY');
  });

  it('is taken from the callback when it carries one', () => {
    const decision = applyVirtualCardChange(token('ACTIVE', { walletProviderId: null }), change({ action: 'SUSPEND', walletProviderId: 'SAMSUNG_PAY' }));
    expect(decision.token?.walletProviderId).toBe('SAMSUNG_PAY');
  });

  it('is set on a token learnt through a callback', () => {
    const decision = applyVirtualCardChange(null, change({ action: 'ACTIVATE', walletProviderId: 'APPLE_PAY' }));
    expect(decision.token?.walletProviderId).toBe('APPLE_PAY');
  });
});

describe('rule 5: our operations apply in request order', () => {
  const lastFromB = () => token('SUSPENDED', { lastAction: 'SUSPEND', lastChangeSource: 'ISSUER', lastOperationId: 'op-b', lastOperationOrder: 'b' });

  it("an older operation's late success is SUPERSEDED: recorded, token untouched", () => {
    const current = lastFromB();
    const before = snapshot(current);
    const decision = applyVirtualCardChange(current, change({ action: 'RESUME' }), op('a'));
    expect(decision).toMatchObject({ outcome: 'SUPERSEDED', reason: null, tokenChanged: false });
    expect(decision.token).toEqual(before);
    expect(decision.event).toMatchObject({ outcome: 'SUPERSEDED', operationId: 'op-a', source: 'ISSUER', stateAfter: 'SUSPENDED' });
  });

  it('a newer operation applies and becomes the last operation order', () => {
    const decision = applyVirtualCardChange(lastFromB(), change({ action: 'RESUME' }), op('c'));
    expect(decision.outcome).toBe('APPLIED');
    expect(decision.token).toMatchObject({
      state: 'ACTIVE',
      lastOperationOrder: 'c',
      lastOperationId: 'op-c',
      lastChangeSource: 'ISSUER',
      lastAction: 'RESUME',
    });
  });

  it('an operation is not superseded by its own earlier change (not created after itself)', () => {
    const decision = applyVirtualCardChange(lastFromB(), change({ action: 'RENEW' }), op('b'));
    expect(decision.outcome).toBe('APPLIED');
  });

  it('an external change after an operation applies and clears lastOperationOrder', () => {
    const afterC = applyVirtualCardChange(lastFromB(), change({ action: 'RESUME' }), op('c')).token!;
    const external = applyVirtualCardChange(afterC, change({ correlationId: 'wallet-1', action: 'SUSPEND', source: 'WALLET' }));
    expect(external.outcome).toBe('APPLIED');
    expect(external.token).toMatchObject({ state: 'SUSPENDED', lastOperationOrder: null, lastOperationId: null, lastChangeSource: 'WALLET' });

    // The last applied change is now external, so an older operation is no longer superseded by 'c'.
    const late = applyVirtualCardChange(external.token, change({ correlationId: 'corr-a', action: 'RESUME' }), op('a'));
    expect(late.outcome).toBe('APPLIED');
    expect(late.token).toMatchObject({ state: 'ACTIVE', lastOperationOrder: 'a' });
  });

  it('an external change is never superseded, whatever operation applied last', () => {
    const decision = applyVirtualCardChange(token('ACTIVE', { lastOperationOrder: 'zzz' }), change({ action: 'SUSPEND', source: 'TSP' }));
    expect(decision.outcome).toBe('APPLIED');
    expect(decision.token).toMatchObject({ state: 'SUSPENDED', lastOperationOrder: null });
  });

  it.each(['a', 'b', 'c'])('a failed callback of operation %s never supersedes anything: FAILED, token untouched', (order) => {
    const current = lastFromB();
    const decision = applyVirtualCardChange(current, change({ action: 'RESUME', errorCode: 221 }), op(order));
    expect(decision).toMatchObject({ outcome: 'FAILED', reason: null, tokenChanged: false });
    expect(decision.token).toEqual(snapshot(current));
    expect(decision.event).toMatchObject({ outcome: 'FAILED', errorCode: 221, operationId: `op-${order}` });
  });

  it("an operation's success for an unknown token creates it", () => {
    const decision = applyVirtualCardChange(null, change({ action: 'SUSPEND' }), op('a'));
    expect(decision.outcome).toBe('APPLIED');
    expect(decision.token).toMatchObject({ state: 'SUSPENDED', lastOperationOrder: 'a', lastChangeSource: 'ISSUER' });
  });
});

describe('dedupeKey (rule 2)', () => {
  const base = { correlationId: 'corr-1', virtualCardId: 'vc-1', action: 'SUSPEND', errorCode: null } as const;

  it('is equal for the same (correlationId, virtualCardId, action, errorCode)', () => {
    expect(dedupeKey({ ...base })).toBe(dedupeKey({ ...base }));
    expect(dedupeKey({ ...base, errorCode: 221 })).toBe(dedupeKey({ ...base, errorCode: 221 }));
  });

  it('ignores source, receivedAt, walletProviderId and issuerCardRefId', () => {
    const a = change({ ...base, source: 'WALLET', receivedAt: T0, walletProviderId: 'APPLE_PAY', issuerCardRefId: 'card-1' });
    const b = change({ ...base, source: null, receivedAt: T1, walletProviderId: null, issuerCardRefId: 'card-2' });
    expect(dedupeKey(a)).toBe(dedupeKey(b));
  });

  it.each([
    ['correlationId', { correlationId: 'corr-2' }],
    ['virtualCardId', { virtualCardId: 'vc-2' }],
    ['action', { action: 'RESUME' }],
    ['action case', { action: 'suspend' }],
    ['errorCode null vs 221', { errorCode: 221 }],
    ['errorCode null vs 0', { errorCode: 0 }],
  ] as const)('differs when %s differs', (_name, diff) => {
    expect(dedupeKey({ ...base, ...diff })).not.toBe(dedupeKey(base));
  });

  it('differs between two error codes', () => {
    expect(dedupeKey({ ...base, errorCode: 221 })).not.toBe(dedupeKey({ ...base, errorCode: 321 }));
  });

  it.each([
    [
      { correlationId: 'a|b', virtualCardId: 'c' },
      { correlationId: 'a', virtualCardId: 'b|c' },
    ],
    [
      { correlationId: 'a#b', virtualCardId: 'c' },
      { correlationId: 'a', virtualCardId: 'b#c' },
    ],
    [
      { correlationId: 'a:b', virtualCardId: 'c' },
      { correlationId: 'a', virtualCardId: 'b:c' },
    ],
    [
      { correlationId: 'a","b', virtualCardId: 'c' },
      { correlationId: 'a', virtualCardId: 'b","c' },
    ],
    [
      { correlationId: 'ab', virtualCardId: 'c' },
      { correlationId: 'a', virtualCardId: 'bc' },
    ],
    [
      { virtualCardId: 'vc', action: '1SUSPEND' },
      { virtualCardId: 'vc1', action: 'SUSPEND' },
    ],
    [
      { action: 'SUSPEND', errorCode: 221 },
      { action: 'SUSPEND221', errorCode: null },
    ],
    [
      { action: 'SUSPEND|221', errorCode: null },
      { action: 'SUSPEND', errorCode: 221 },
    ],
    [
      { action: 'null', errorCode: null },
      { action: '', errorCode: null },
    ],
  ] as const)('has no collision for separator tricks: %j vs %j', (x, y) => {
    expect(dedupeKey({ ...base, ...x })).not.toBe(dedupeKey({ ...base, ...y }));
  });

  it('has a fixed size whatever D1 sends', () => {
    const short = dedupeKey(base);
    const long = dedupeKey({ ...base, correlationId: 'x'.repeat(64), virtualCardId: 'y'.repeat(64), action: 'z'.repeat(32) });
    expect(long).toHaveLength(short.length);
  });
});

describe('rule 5: external changes apply in arrival order (receivedAt)', () => {
  const EARLIER = '2026-01-01T12:00:00.000Z'; // before T1, the token's updatedAt

  it.each(['ACTIVATE', 'RESUME', 'SUSPEND'])('an external %s that arrived before the applied change is IGNORED (OUT_OF_ORDER), token untouched', (action) => {
    const current = token('ACTIVE');
    const before = snapshot(current);
    const d = applyVirtualCardChange(current, change({ action, receivedAt: EARLIER }));
    expect(d).toMatchObject({ outcome: 'IGNORED', reason: 'OUT_OF_ORDER', tokenChanged: false });
    expect(d.token).toEqual(before);
    expect(d.event).toMatchObject({ at: EARLIER, outcome: 'IGNORED', stateAfter: 'ACTIVE' });
  });

  it.each(['DELETE', 'DELETE_FROM_APP'])('an overtaken %s still applies (terminal whatever the order)', (action) => {
    const d = applyVirtualCardChange(token('ACTIVE'), change({ action, receivedAt: EARLIER }));
    expect(d).toMatchObject({ outcome: 'APPLIED', token: { state: 'DELETED' } });
  });

  it('an overtaken RENEW still applies and counts (no state change)', () => {
    const d = applyVirtualCardChange(token('SUSPENDED'), change({ action: 'RENEW', receivedAt: EARLIER }));
    expect(d).toMatchObject({ outcome: 'APPLIED', token: { state: 'SUSPENDED', renewals: 3 } });
  });

  it('a change that arrived at the same instant or later applies', () => {
    expect(applyVirtualCardChange(token('ACTIVE'), change({ action: 'SUSPEND', receivedAt: T1 })).outcome).toBe('APPLIED');
    expect(applyVirtualCardChange(token('ACTIVE'), change({ action: 'SUSPEND' })).outcome).toBe('APPLIED');
  });

  it("our operation's callback is not subject to arrival order (rule 5 by creation order)", () => {
    const d = applyVirtualCardChange(token('ACTIVE'), change({ action: 'SUSPEND', receivedAt: EARLIER, source: 'ISSUER' }), op('0002'));
    expect(d).toMatchObject({ outcome: 'APPLIED', token: { state: 'SUSPENDED' } });
  });

  it('a failed overtaken callback is still FAILED (rule 3 first)', () => {
    expect(applyVirtualCardChange(token('ACTIVE'), change({ action: 'SUSPEND', errorCode: 221, receivedAt: EARLIER })).outcome).toBe('FAILED');
  });
  describe('an older operation callback applied after later arrivals', () => {
    const AT = (s: number) => `2026-01-03T00:00:0${s}.000Z`;

    it('does not reopen the window: an external change overtaken by a later-arrived one stays OUT_OF_ORDER', () => {
      // Arrivals: our SUSPEND's callback @1, wallet RESUME @2, wallet SUSPEND @3; processed @3, @1, @2.
      let t: Token | null = token('ACTIVE', { updatedAt: T1, lastStateChangeAt: T1 });
      t = applyVirtualCardChange(t, change({ correlationId: 'w-3', action: 'SUSPEND', receivedAt: AT(3) })).token;
      t = applyVirtualCardChange(t, change({ correlationId: 'op-1', action: 'SUSPEND', source: 'ISSUER', receivedAt: AT(1) }), op('0001')).token;
      expect(t).toMatchObject({ state: 'SUSPENDED', lastOperationId: 'op-0001', lastStateChangeAt: AT(3), updatedAt: AT(3) });
      const late = applyVirtualCardChange(t, change({ correlationId: 'w-2', action: 'RESUME', receivedAt: AT(2) }));
      expect(late).toMatchObject({ outcome: 'IGNORED', reason: 'OUT_OF_ORDER', token: { state: 'SUSPENDED' } });
    });

    it('never moves updatedAt backwards, and stands as the last change (creation order)', () => {
      const renewed = applyVirtualCardChange(
        token('ACTIVE', { updatedAt: T1, lastStateChangeAt: T1 }),
        change({ correlationId: 'r-2', action: 'RENEW', source: 'TSP', receivedAt: AT(2) }),
      ).token;
      const d = applyVirtualCardChange(renewed, change({ correlationId: 'op-1', action: 'SUSPEND', source: 'ISSUER', receivedAt: AT(1) }), op('0001'));
      expect(d.token).toMatchObject({
        state: 'SUSPENDED',
        lastAction: 'SUSPEND',
        lastChangeSource: 'ISSUER',
        updatedAt: AT(2),
        lastRenewedAt: AT(2),
        lastStateChangeAt: AT(1),
      });
      // A wallet change that arrived between them then applies, and is the last change (not the RENEW's fields).
      const between = applyVirtualCardChange(d.token, change({ correlationId: 'w-15', action: 'RESUME', receivedAt: '2026-01-03T00:00:01.500Z' }));
      expect(between.token).toMatchObject({ state: 'ACTIVE', lastAction: 'RESUME', lastChangeSource: 'WALLET', updatedAt: AT(2) });
    });
  });

  describe('a RENEW sets no state, so it never makes a state change late', () => {
    const SUSPEND_AT = '2026-01-01T12:00:00.000Z';
    const RENEW_AT = '2026-01-01T12:00:00.040Z';

    it('SUSPEND arrived, then RENEW; the RENEW applied first: the SUSPEND still applies, the RENEW stays the last change', () => {
      const renewed = applyVirtualCardChange(
        token('ACTIVE', { updatedAt: T0, lastStateChangeAt: T0 }),
        change({ correlationId: 'c-renew', action: 'RENEW', source: 'TSP', receivedAt: RENEW_AT }),
      );
      expect(renewed.token).toMatchObject({ state: 'ACTIVE', lastAction: 'RENEW', updatedAt: RENEW_AT, lastStateChangeAt: T0 });
      const d = applyVirtualCardChange(renewed.token, change({ correlationId: 'c-suspend', action: 'SUSPEND', source: 'WALLET', receivedAt: SUSPEND_AT }));
      expect(d.outcome).toBe('APPLIED');
      // In arrival order (SUSPEND, RENEW) the token is SUSPENDED and its last applied change is the RENEW.
      expect(d.token).toMatchObject({
        state: 'SUSPENDED',
        lastAction: 'RENEW',
        lastChangeSource: 'TSP',
        updatedAt: RENEW_AT,
        lastStateChangeAt: SUSPEND_AT,
        renewals: 3,
      });
      expect(d.event).toMatchObject({ at: SUSPEND_AT, outcome: 'APPLIED', stateAfter: 'SUSPENDED' });
    });

    it('a token first seen through a RENEW takes an earlier-arrived state change', () => {
      const renewed = applyVirtualCardChange(null, change({ action: 'RENEW', receivedAt: RENEW_AT }));
      expect(renewed.token).toMatchObject({ state: 'ACTIVE', lastStateChangeAt: null });
      const d = applyVirtualCardChange(renewed.token, change({ correlationId: 'c-suspend', action: 'SUSPEND', receivedAt: SUSPEND_AT }));
      expect(d.token).toMatchObject({ state: 'SUSPENDED', lastAction: 'RENEW', renewals: 1 });
    });

    it('a state change that arrived before the last state change is still OUT_OF_ORDER behind a RENEW', () => {
      const current = token('SUSPENDED', { lastAction: 'RENEW', updatedAt: RENEW_AT, lastStateChangeAt: SUSPEND_AT });
      const d = applyVirtualCardChange(current, change({ action: 'RESUME', receivedAt: '2026-01-01T11:59:59.999Z' }));
      expect(d).toMatchObject({ outcome: 'IGNORED', reason: 'OUT_OF_ORDER', tokenChanged: false });
    });

    it('a late RENEW counts but leaves the last change and lastRenewedAt to what arrived later', () => {
      const current = token('SUSPENDED', {
        lastAction: 'SUSPEND',
        lastChangeSource: 'WALLET',
        updatedAt: RENEW_AT,
        lastStateChangeAt: RENEW_AT,
        lastRenewedAt: RENEW_AT,
      });
      const d = applyVirtualCardChange(current, change({ action: 'RENEW', source: 'TSP', receivedAt: SUSPEND_AT }));
      expect(d.token).toMatchObject({
        state: 'SUSPENDED',
        renewals: 3,
        lastAction: 'SUSPEND',
        lastChangeSource: 'WALLET',
        updatedAt: RENEW_AT,
        lastRenewedAt: RENEW_AT,
        lastStateChangeAt: RENEW_AT,
      });
    });

    it('a late state change keeps the wallet provider of the RENEW standing as the last change', () => {
      const current = token('ACTIVE', { lastAction: 'RENEW', walletProviderId: 'GOOGLE_PAY', updatedAt: RENEW_AT, lastStateChangeAt: T0 });
      const d = applyVirtualCardChange(current, change({ action: 'SUSPEND', walletProviderId: 'APPLE_PAY', receivedAt: SUSPEND_AT }));
      expect(d.token).toMatchObject({ state: 'SUSPENDED', lastAction: 'RENEW', walletProviderId: 'GOOGLE_PAY' });
    });

    it('an overtaken DELETE takes the last change whatever arrived later (terminal)', () => {
      const current = token('ACTIVE', { lastAction: 'RENEW', updatedAt: RENEW_AT, lastStateChangeAt: T0 });
      const d = applyVirtualCardChange(current, change({ action: 'DELETE', receivedAt: SUSPEND_AT }));
      expect(d.token).toMatchObject({ state: 'DELETED', lastAction: 'DELETE', lastStateChangeAt: SUSPEND_AT });
    });
  });
});
