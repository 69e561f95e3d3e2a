import { newOperation, type LcmAction, type Operation, type OperationTokenOutcome } from '../../lambdas/domain/operation';
import { applyCorrection, planCorrections, settleOperation, stateFromD1, type Correction, type D1VirtualCard } from '../../lambdas/domain/reconciliation';
import type { Token, TokenState } from '../../lambdas/domain/token';
import { applyVirtualCardChange } from '../../lambdas/domain/virtual-card-change';
import { deepFreeze } from '../support/freeze';
import { storedToken } from '../support/tokens';

/**
 * Reconciliation with D1's own view (DESIGN §3 reconcile route, §5 RECONCILE_AFTER_MS): the pure half.
 * No I/O. Every input is deep-frozen, so an in-place mutation by the product throws.
 */

const CARD = 'card-1';
const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';
const CREATED = new Date('2026-05-01T10:00:00.000Z');
const AFTER_MS = 1_000;
const NOT_OVERDUE = new Date(CREATED.getTime() + AFTER_MS - 1);
const JUST_OVERDUE = new Date(CREATED.getTime() + AFTER_MS);
const LATE = new Date(CREATED.getTime() + 10 * AFTER_MS);

function token(virtualCardId: string, state: TokenState, overrides: Partial<Token> = {}): Token {
  return storedToken({
    virtualCardId,
    issuerCardRefId: CARD,
    state,
    lastOperationId: 'op-earlier',
    renewals: 2,
    lastRenewedAt: T0,
    updatedAt: T1,
    lastOperationOrder: '#000000000000007',
    version: 7,
    ...overrides,
  });
}

const d1 = (virtualCardId: string, status: string, walletProviderId?: string): D1VirtualCard =>
  walletProviderId === undefined ? { virtualCardId, status } : { virtualCardId, status, walletProviderId };

function submitted(action: LcmAction, opts: { virtualCardId?: string; expected: string[]; tokens?: OperationTokenOutcome[] }): Operation {
  const op = newOperation({
    operationId: `op-${action.toLowerCase()}`,
    action,
    issuerCardRefId: CARD,
    ...(opts.virtualCardId !== undefined ? { virtualCardId: opts.virtualCardId } : {}),
    expectedTokens: opts.expected,
    now: CREATED,
    sequence: 3,
  });
  return deepFreeze({ ...op, status: 'SUBMITTED', submitAttempts: 1, tokens: opts.tokens ?? [], version: 2 });
}

// ---------------------------------------------------------------------------------------------------------

describe('stateFromD1: DESIGN §3 mapping of D1 statuses', () => {
  it.each([
    ['RESUMED', 'ACTIVE'],
    ['ACTIVE', 'ACTIVE'],
    ['SUSPENDED', 'SUSPENDED'],
    ['DELETED', 'DELETED'],
    ['ERASED', 'DELETED'],
    ['INACTIVE', 'INACTIVE'],
    ['DEPLOYMENT_ONGOING', 'INACTIVE'],
  ])('%s → %s', (status, state) => {
    expect(stateFromD1(status)).toBe(state);
  });

  it.each(['', 'UNKNOWN', 'resumed', 'Suspended', 'PENDING', 'DELETED ', 'REMOVED'])('unknown status %j → null (left alone)', (status) => {
    expect(stateFromD1(status)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('planCorrections: drift between our tokens and D1 getCardInfo', () => {
  const cases: { name: string; ours: Token[]; d1: D1VirtualCard[]; expected: Correction[] }[] = [
    {
      name: 'no drift (every mapped status equals our state) → []',
      ours: [token('vc-a', 'ACTIVE'), token('vc-s', 'SUSPENDED'), token('vc-i', 'INACTIVE'), token('vc-d', 'DELETED')],
      d1: [d1('vc-a', 'RESUMED'), d1('vc-s', 'SUSPENDED'), d1('vc-i', 'DEPLOYMENT_ONGOING'), d1('vc-d', 'ERASED')],
      expected: [],
    },
    { name: 'nothing on either side → []', ours: [], d1: [], expected: [] },
    {
      name: 'state differs: ACTIVE at ours, SUSPENDED at D1',
      ours: [token('vc-1', 'ACTIVE')],
      d1: [d1('vc-1', 'SUSPENDED')],
      expected: [{ virtualCardId: 'vc-1', from: 'ACTIVE', to: 'SUSPENDED', walletProviderId: 'APPLE_PAY' }],
    },
    {
      name: 'state differs: SUSPENDED at ours, RESUMED at D1 → ACTIVE',
      ours: [token('vc-1', 'SUSPENDED')],
      d1: [d1('vc-1', 'RESUMED')],
      expected: [{ virtualCardId: 'vc-1', from: 'SUSPENDED', to: 'ACTIVE', walletProviderId: 'APPLE_PAY' }],
    },
    {
      name: 'state differs: ACTIVE at ours, INACTIVE at D1',
      ours: [token('vc-1', 'ACTIVE')],
      d1: [d1('vc-1', 'INACTIVE')],
      expected: [{ virtualCardId: 'vc-1', from: 'ACTIVE', to: 'INACTIVE', walletProviderId: 'APPLE_PAY' }],
    },
    {
      name: 'state differs: INACTIVE at ours, DELETED at D1',
      ours: [token('vc-1', 'INACTIVE')],
      d1: [d1('vc-1', 'DELETED')],
      expected: [{ virtualCardId: 'vc-1', from: 'INACTIVE', to: 'DELETED', walletProviderId: 'APPLE_PAY' }],
    },
    {
      name: 'state differs: SUSPENDED at ours, ERASED at D1 → DELETED',
      ours: [token('vc-1', 'SUSPENDED')],
      d1: [d1('vc-1', 'ERASED')],
      expected: [{ virtualCardId: 'vc-1', from: 'SUSPENDED', to: 'DELETED', walletProviderId: 'APPLE_PAY' }],
    },
    {
      name: 'only D1 lists it → created (from null) with the mapped state and D1 walletProviderId',
      ours: [],
      d1: [d1('vc-new', 'DEPLOYMENT_ONGOING', 'GOOGLE_PAY')],
      expected: [{ virtualCardId: 'vc-new', from: null, to: 'INACTIVE', walletProviderId: 'GOOGLE_PAY' }],
    },
    {
      name: 'only D1 lists it, without walletProviderId → created with walletProviderId null',
      ours: [],
      d1: [d1('vc-new', 'RESUMED')],
      expected: [{ virtualCardId: 'vc-new', from: null, to: 'ACTIVE', walletProviderId: null }],
    },
    {
      name: 'D1 no longer lists our token → DELETED',
      ours: [token('vc-gone', 'ACTIVE'), token('vc-kept', 'ACTIVE')],
      d1: [d1('vc-kept', 'RESUMED')],
      expected: [{ virtualCardId: 'vc-gone', from: 'ACTIVE', to: 'DELETED', walletProviderId: 'APPLE_PAY' }],
    },
    {
      name: 'D1 lists nothing for the card → every non-DELETED token of ours becomes DELETED',
      ours: [token('vc-1', 'SUSPENDED'), token('vc-2', 'INACTIVE'), token('vc-3', 'DELETED')],
      d1: [],
      expected: [
        { virtualCardId: 'vc-1', from: 'SUSPENDED', to: 'DELETED', walletProviderId: 'APPLE_PAY' },
        { virtualCardId: 'vc-2', from: 'INACTIVE', to: 'DELETED', walletProviderId: 'APPLE_PAY' },
      ],
    },
    {
      name: 'DELETED stays DELETED even when D1 says RESUMED',
      ours: [token('vc-1', 'DELETED')],
      d1: [d1('vc-1', 'RESUMED')],
      expected: [],
    },
    {
      name: 'DELETED stays DELETED whatever D1 says (SUSPENDED, INACTIVE, DEPLOYMENT_ONGOING)',
      ours: [token('vc-1', 'DELETED'), token('vc-2', 'DELETED'), token('vc-3', 'DELETED')],
      d1: [d1('vc-1', 'SUSPENDED'), d1('vc-2', 'INACTIVE'), d1('vc-3', 'DEPLOYMENT_ONGOING')],
      expected: [],
    },
    {
      name: 'unknown D1 status on a known token → no correction',
      ours: [token('vc-1', 'ACTIVE')],
      d1: [d1('vc-1', 'SOMETHING_NEW')],
      expected: [],
    },
    {
      name: 'unknown D1 status on a token only D1 lists → not created',
      ours: [],
      d1: [d1('vc-new', 'SOMETHING_NEW')],
      expected: [],
    },
    {
      name: 'every kind at once, each token judged on its own',
      ours: [token('vc-same', 'ACTIVE'), token('vc-diff', 'ACTIVE'), token('vc-gone', 'SUSPENDED'), token('vc-dead', 'DELETED'), token('vc-odd', 'INACTIVE')],
      d1: [d1('vc-same', 'ACTIVE'), d1('vc-diff', 'SUSPENDED'), d1('vc-dead', 'RESUMED'), d1('vc-odd', '???'), d1('vc-new', 'SUSPENDED', 'SAMSUNG_PAY')],
      expected: [
        { virtualCardId: 'vc-diff', from: 'ACTIVE', to: 'SUSPENDED', walletProviderId: 'APPLE_PAY' },
        { virtualCardId: 'vc-gone', from: 'SUSPENDED', to: 'DELETED', walletProviderId: 'APPLE_PAY' },
        { virtualCardId: 'vc-new', from: null, to: 'SUSPENDED', walletProviderId: 'SAMSUNG_PAY' },
      ],
    },
  ];

  it.each(cases)('$name', ({ ours, d1: listed, expected }) => {
    const corrections = planCorrections(deepFreeze(ours), deepFreeze(listed));
    const byId = (a: Correction, b: Correction) => a.virtualCardId.localeCompare(b.virtualCardId);
    expect([...corrections].sort(byId)).toEqual([...expected].sort(byId));
  });

  it('a correction keeps our walletProviderId for a token we know (D1 may report another)', () => {
    const [correction] = planCorrections([token('vc-1', 'ACTIVE', { walletProviderId: 'APPLE_PAY' })], [d1('vc-1', 'SUSPENDED', 'GOOGLE_PAY')]);
    expect(correction).toEqual({ virtualCardId: 'vc-1', from: 'ACTIVE', to: 'SUSPENDED', walletProviderId: 'APPLE_PAY' });
  });

  it('planning twice against the view it produced corrects nothing (idempotent)', () => {
    const ours = [token('vc-1', 'ACTIVE'), token('vc-2', 'ACTIVE')];
    const listed = [d1('vc-1', 'SUSPENDED'), d1('vc-3', 'INACTIVE')];
    const corrections = planCorrections(ours, listed);
    expect(corrections.map((c) => [c.virtualCardId, c.to])).toEqual([
      ['vc-1', 'SUSPENDED'],
      ['vc-2', 'DELETED'],
      ['vc-3', 'INACTIVE'],
    ]);
    const current = new Map(ours.map((t) => [t.virtualCardId, t]));
    const after = corrections.map((c) => applyCorrection(current.get(c.virtualCardId) ?? null, CARD, c, 'rec-1', LATE).token);
    expect(planCorrections(after, listed)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('applyCorrection: the corrected token and its history event', () => {
  it('sets the state as of when D1 was asked: a callback that arrived after that still applies', () => {
    const asked = new Date(LATE.getTime() - 1_000);
    const { token: corrected } = applyCorrection(
      token('vc-1', 'ACTIVE'),
      CARD,
      { virtualCardId: 'vc-1', from: 'ACTIVE', to: 'SUSPENDED', walletProviderId: 'APPLE_PAY' },
      'rec-1',
      LATE,
      asked,
    );
    expect(corrected).toMatchObject({ state: 'SUSPENDED', updatedAt: LATE.toISOString(), lastStateChangeAt: asked.toISOString() });
    const resume = (receivedAt: Date) =>
      applyVirtualCardChange(corrected, {
        correlationId: 'w-1',
        issuerCardRefId: CARD,
        virtualCardId: 'vc-1',
        action: 'RESUME',
        errorCode: null,
        source: 'WALLET',
        walletProviderId: null,
        receivedAt: receivedAt.toISOString(),
      });
    // Received while getCardInfo was in flight, applied after the correction was written: newer than D1's answer.
    expect(resume(new Date(asked.getTime() + 500))).toMatchObject({ outcome: 'APPLIED', token: { state: 'ACTIVE' } });
    // Received before D1 was asked: D1's answer already reflects it.
    expect(resume(new Date(asked.getTime() - 500))).toMatchObject({ outcome: 'IGNORED', reason: 'OUT_OF_ORDER' });
  });

  it('a known token: state from the correction, lastAction RECONCILE, source RECONCILIATION, no operation; renewals and identity kept', () => {
    const current = token('vc-1', 'ACTIVE', { walletProviderId: 'GOOGLE_PAY', renewals: 3, lastRenewedAt: T0, version: 7 });
    const correction = deepFreeze<Correction>({ virtualCardId: 'vc-1', from: 'ACTIVE', to: 'SUSPENDED', walletProviderId: 'GOOGLE_PAY' });
    const { token: after, event } = applyCorrection(current, CARD, correction, 'rec-1', LATE);
    expect(after).toEqual({
      virtualCardId: 'vc-1',
      issuerCardRefId: CARD,
      walletProviderId: 'GOOGLE_PAY',
      state: 'SUSPENDED',
      lastAction: 'RECONCILE',
      lastChangeSource: 'RECONCILIATION',
      lastOperationId: null,
      renewals: 3,
      lastRenewedAt: T0,
      updatedAt: LATE.toISOString(),
      lastOperationOrder: null,
      lastStateChangeAt: LATE.toISOString(),
      version: 7, // the store writes version + 1 on the condition that it is still 7
      tokenStorageId: null,
      walletCardRefId: null,
      device: null,
    });
    expect(event).toEqual({
      at: LATE.toISOString(),
      action: 'RECONCILE',
      source: 'RECONCILIATION',
      correlationId: 'rec-1',
      operationId: null,
      requestedBy: null,
      errorCode: null,
      outcome: 'APPLIED',
      stateAfter: 'SUSPENDED',
    });
  });

  it('a token only D1 lists: created with the card, D1 walletProviderId, no renewals, version 0', () => {
    const correction = deepFreeze<Correction>({ virtualCardId: 'vc-new', from: null, to: 'INACTIVE', walletProviderId: 'SAMSUNG_PAY' });
    const { token: created, event } = applyCorrection(null, CARD, correction, 'rec-2', LATE);
    expect(created).toEqual({
      virtualCardId: 'vc-new',
      issuerCardRefId: CARD,
      walletProviderId: 'SAMSUNG_PAY',
      state: 'INACTIVE',
      lastAction: 'RECONCILE',
      lastChangeSource: 'RECONCILIATION',
      lastOperationId: null,
      renewals: 0,
      lastRenewedAt: null,
      updatedAt: LATE.toISOString(),
      lastOperationOrder: null,
      lastStateChangeAt: LATE.toISOString(),
      version: 0,
      tokenStorageId: null,
      walletCardRefId: null,
      device: null,
    });
    expect(event).toMatchObject({
      action: 'RECONCILE',
      source: 'RECONCILIATION',
      outcome: 'APPLIED',
      stateAfter: 'INACTIVE',
      operationId: null,
      errorCode: null,
      correlationId: 'rec-2',
    });
  });

  it.each<TokenState>(['ACTIVE', 'SUSPENDED', 'INACTIVE', 'DELETED'])('stateAfter of the event is the corrected state (%s)', (to) => {
    const from: TokenState = to === 'ACTIVE' ? 'SUSPENDED' : 'ACTIVE';
    const { token: after, event } = applyCorrection(token('vc-1', from), CARD, { virtualCardId: 'vc-1', from, to, walletProviderId: 'APPLE_PAY' }, 'rec', LATE);
    expect(after.state).toBe(to);
    expect(event.stateAfter).toBe(to);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('settleOperation: SUBMITTED operations settled on the D1 view', () => {
  it.each(['PENDING', 'SUCCEEDED', 'PARTIALLY_FAILED', 'FAILED'] as const)(
    'a %s operation is left alone (null), even overdue with the target reached',
    (status) => {
      const op = deepFreeze({ ...submitted('SUSPEND', { virtualCardId: 'vc-1', expected: ['vc-1'] }), status });
      expect(settleOperation(op, [d1('vc-1', 'SUSPENDED')], LATE, AFTER_MS)).toBeNull();
    },
  );

  describe('TOKEN scope: target reached → SUCCEEDED (overdue or not)', () => {
    const reached: [LcmAction, D1VirtualCard[]][] = [
      ['SUSPEND', [d1('vc-1', 'SUSPENDED')]],
      ['RESUME', [d1('vc-1', 'RESUMED')]],
      ['RESUME', [d1('vc-1', 'ACTIVE')]],
      ['DELETE', [d1('vc-1', 'DELETED')]],
      ['DELETE', [d1('vc-1', 'ERASED')]],
      ['DELETE', []], // D1 no longer lists it
      ['DELETE', [d1('vc-other', 'RESUMED')]],
    ];
    it.each(reached)('%s with D1 %j', (action, listed) => {
      for (const now of [NOT_OVERDUE, LATE]) {
        const op = submitted(action, { virtualCardId: 'vc-1', expected: ['vc-1'] });
        const settled = settleOperation(op, deepFreeze(listed), now, AFTER_MS);
        expect(settled).toMatchObject({
          operationId: op.operationId,
          status: 'SUCCEEDED',
          failure: null,
          tokens: [{ virtualCardId: 'vc-1', outcome: 'SUCCEEDED', at: now.toISOString() }],
          expectedTokens: ['vc-1'],
          updatedAt: now.toISOString(),
          createdAt: op.createdAt,
          version: op.version, // the store writes on this version
        });
        expect(settled!.tokens[0]).not.toHaveProperty('errorCode');
      }
    });
  });

  describe('TOKEN scope: target not reached', () => {
    const notReached: [LcmAction, D1VirtualCard[]][] = [
      ['SUSPEND', [d1('vc-1', 'RESUMED')]],
      ['SUSPEND', [d1('vc-1', 'INACTIVE')]],
      ['SUSPEND', [d1('vc-1', 'DELETED')]],
      ['SUSPEND', []],
      ['RESUME', [d1('vc-1', 'SUSPENDED')]],
      ['RESUME', [d1('vc-1', 'DEPLOYMENT_ONGOING')]],
      ['DELETE', [d1('vc-1', 'SUSPENDED')]],
      ['DELETE', [d1('vc-1', 'RESUMED')]],
      ['SUSPEND', [d1('vc-1', 'SOMETHING_NEW')]],
    ];
    it.each(notReached)('%s with D1 %j, not overdue → null', (action, listed) => {
      const op = submitted(action, { virtualCardId: 'vc-1', expected: ['vc-1'] });
      expect(settleOperation(op, deepFreeze(listed), NOT_OVERDUE, AFTER_MS)).toBeNull();
    });
    it.each(notReached)('%s with D1 %j, overdue → FAILED CALLBACK_ERROR', (action, listed) => {
      for (const now of [JUST_OVERDUE, LATE]) {
        const op = submitted(action, { virtualCardId: 'vc-1', expected: ['vc-1'] });
        const settled = settleOperation(op, deepFreeze(listed), now, AFTER_MS);
        expect(settled).toMatchObject({
          status: 'FAILED',
          failure: { reason: 'CALLBACK_ERROR' },
          tokens: [{ virtualCardId: 'vc-1', outcome: 'FAILED', at: now.toISOString() }],
          expectedTokens: ['vc-1'],
          version: op.version,
        });
      }
    });
  });

  describe('CARD scope', () => {
    const expected = ['vc-1', 'vc-2', 'vc-3'];

    it('every expected token in the target → SUCCEEDED', () => {
      const op = submitted('SUSPEND', { expected });
      const settled = settleOperation(
        op,
        [d1('vc-1', 'SUSPENDED'), d1('vc-2', 'SUSPENDED'), d1('vc-3', 'SUSPENDED'), d1('vc-x', 'RESUMED')],
        NOT_OVERDUE,
        AFTER_MS,
      );
      expect(settled).toMatchObject({ status: 'SUCCEEDED', failure: null, expectedTokens: expected });
      expect(settled!.tokens.map((t) => [t.virtualCardId, t.outcome])).toEqual([
        ['vc-1', 'SUCCEEDED'],
        ['vc-2', 'SUCCEEDED'],
        ['vc-3', 'SUCCEEDED'],
      ]);
    });

    it('partial, not overdue: the reached tokens are recorded, the operation stays SUBMITTED', () => {
      const op = submitted('SUSPEND', { expected });
      const settled = settleOperation(op, [d1('vc-1', 'SUSPENDED'), d1('vc-2', 'RESUMED'), d1('vc-3', 'SUSPENDED')], NOT_OVERDUE, AFTER_MS);
      expect(settled).toMatchObject({ status: 'SUBMITTED', failure: null, expectedTokens: expected });
      expect(settled!.tokens.map((t) => [t.virtualCardId, t.outcome])).toEqual([
        ['vc-1', 'SUCCEEDED'],
        ['vc-3', 'SUCCEEDED'],
      ]);
    });

    it('partial, overdue → PARTIALLY_FAILED (reached SUCCEEDED, the rest FAILED)', () => {
      const op = submitted('SUSPEND', { expected });
      const settled = settleOperation(op, [d1('vc-1', 'SUSPENDED'), d1('vc-2', 'RESUMED')], LATE, AFTER_MS); // vc-3 not listed
      expect(settled).toMatchObject({ status: 'PARTIALLY_FAILED', failure: null, expectedTokens: expected });
      expect(settled!.tokens).toEqual([
        { virtualCardId: 'vc-1', outcome: 'SUCCEEDED', at: LATE.toISOString() },
        { virtualCardId: 'vc-2', outcome: 'FAILED', at: LATE.toISOString() },
        { virtualCardId: 'vc-3', outcome: 'FAILED', at: LATE.toISOString() },
      ]);
    });

    it('none reached, overdue → FAILED CALLBACK_ERROR', () => {
      const op = submitted('RESUME', { expected });
      const settled = settleOperation(op, [d1('vc-1', 'SUSPENDED'), d1('vc-2', 'SUSPENDED'), d1('vc-3', 'INACTIVE')], LATE, AFTER_MS);
      expect(settled).toMatchObject({ status: 'FAILED', failure: { reason: 'CALLBACK_ERROR' } });
      expect(settled!.tokens.map((t) => t.outcome)).toEqual(['FAILED', 'FAILED', 'FAILED']);
    });

    it('none reached, not overdue → null (nothing changes)', () => {
      const op = submitted('RESUME', { expected });
      expect(settleOperation(op, [d1('vc-1', 'SUSPENDED'), d1('vc-2', 'SUSPENDED'), d1('vc-3', 'SUSPENDED')], NOT_OVERDUE, AFTER_MS)).toBeNull();
    });

    it('tokens that already have an outcome (from callbacks) are kept as they are, whatever D1 says now', () => {
      const earlier: OperationTokenOutcome[] = [
        { virtualCardId: 'vc-1', outcome: 'FAILED', errorCode: 221, at: T0 },
        { virtualCardId: 'vc-2', outcome: 'SUCCEEDED', at: T1 },
      ];
      const op = submitted('SUSPEND', { expected, tokens: earlier });
      // D1 now reports vc-1 SUSPENDED (retried by the wallet) and vc-2 RESUMED (changed since): neither outcome moves.
      const settled = settleOperation(op, [d1('vc-1', 'SUSPENDED'), d1('vc-2', 'RESUMED'), d1('vc-3', 'SUSPENDED')], NOT_OVERDUE, AFTER_MS);
      expect(settled).toMatchObject({ status: 'PARTIALLY_FAILED', failure: null });
      expect(settled!.tokens).toEqual([...earlier, { virtualCardId: 'vc-3', outcome: 'SUCCEEDED', at: NOT_OVERDUE.toISOString() }]);
    });

    it('tokens with outcomes kept, overdue: the unreported rest FAILED → PARTIALLY_FAILED', () => {
      const earlier: OperationTokenOutcome[] = [{ virtualCardId: 'vc-2', outcome: 'SUCCEEDED', at: T1 }];
      const op = submitted('DELETE', { expected, tokens: earlier });
      const settled = settleOperation(op, [d1('vc-1', 'RESUMED'), d1('vc-2', 'RESUMED'), d1('vc-3', 'ERASED')], LATE, AFTER_MS);
      expect(settled).toMatchObject({ status: 'PARTIALLY_FAILED' });
      expect(settled!.tokens).toEqual([
        { virtualCardId: 'vc-2', outcome: 'SUCCEEDED', at: T1 },
        { virtualCardId: 'vc-1', outcome: 'FAILED', at: LATE.toISOString() },
        { virtualCardId: 'vc-3', outcome: 'SUCCEEDED', at: LATE.toISOString() },
      ]);
    });

    it('an outcome for a token outside the expected set is kept too', () => {
      const outside: OperationTokenOutcome = { virtualCardId: 'vc-x', outcome: 'SUCCEEDED', at: T0 };
      const op = submitted('SUSPEND', { expected: ['vc-1'], tokens: [outside] });
      const settled = settleOperation(op, [d1('vc-1', 'SUSPENDED')], NOT_OVERDUE, AFTER_MS);
      expect(settled).toMatchObject({ status: 'SUCCEEDED' });
      expect(settled!.tokens).toEqual([outside, { virtualCardId: 'vc-1', outcome: 'SUCCEEDED', at: NOT_OVERDUE.toISOString() }]);
    });
  });

  describe('CARD scope with an empty expected set (every known token DELETED or none known)', () => {
    it('D1 lists tokens all in the target → SUCCEEDED, not overdue; the expected set stays empty', () => {
      const op = submitted('SUSPEND', { expected: [] });
      const settled = settleOperation(op, [d1('vc-1', 'SUSPENDED'), d1('vc-2', 'SUSPENDED')], NOT_OVERDUE, AFTER_MS);
      expect(settled).toMatchObject({ status: 'SUCCEEDED', failure: null, expectedTokens: [] });
      expect(settled!.tokens.map((t) => [t.virtualCardId, t.outcome])).toEqual([
        ['vc-1', 'SUCCEEDED'],
        ['vc-2', 'SUCCEEDED'],
      ]);
    });

    it('D1 lists tokens, some not in the target, not overdue → the reached ones recorded, still SUBMITTED', () => {
      const op = submitted('SUSPEND', { expected: [] });
      const settled = settleOperation(op, [d1('vc-1', 'SUSPENDED'), d1('vc-2', 'RESUMED')], NOT_OVERDUE, AFTER_MS);
      expect(settled).toMatchObject({ status: 'SUBMITTED', expectedTokens: [] });
      expect(settled!.tokens.map((t) => t.virtualCardId)).toEqual(['vc-1']);
    });

    it('D1 lists tokens, some not in the target, overdue → PARTIALLY_FAILED', () => {
      const op = submitted('SUSPEND', { expected: [] });
      const settled = settleOperation(op, [d1('vc-1', 'SUSPENDED'), d1('vc-2', 'RESUMED')], LATE, AFTER_MS);
      expect(settled).toMatchObject({ status: 'PARTIALLY_FAILED', expectedTokens: [] });
    });

    it('D1 lists none, not overdue → null (keep waiting for callbacks)', () => {
      expect(settleOperation(submitted('DELETE', { expected: [] }), [], NOT_OVERDUE, AFTER_MS)).toBeNull();
    });

    it.each([JUST_OVERDUE, LATE])('D1 lists none, overdue (%s) → SUCCEEDED, nothing to wait for', (now) => {
      const op = submitted('DELETE', { expected: [] });
      const settled = settleOperation(op, [], now, AFTER_MS);
      expect(settled).toMatchObject({ status: 'SUCCEEDED', failure: null, tokens: [], expectedTokens: [], updatedAt: now.toISOString(), version: op.version });
    });
  });
});
