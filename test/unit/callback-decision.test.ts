import { decideCallback } from '../../lambdas/domain/callback';
import { newOperation, recordSubmission, type LcmAction, type Operation } from '../../lambdas/domain/operation';
import type { Token, TokenState } from '../../lambdas/domain/token';
import { applyVirtualCardChange, type VirtualCardChange } from '../../lambdas/domain/virtual-card-change';
import { deepFreeze } from '../support/freeze';
import { storedToken } from '../support/tokens';

/**
 * decideCallback (DESIGN §2 rules 3, 5, 6, 7, 8): the token side (applyVirtualCardChange) composed with the
 * operation the x-correlation-id names. Pure; every input is deep-frozen.
 */

const T_OP1 = new Date('2026-03-01T09:00:00.000Z');
const T_OP2 = new Date('2026-03-01T09:00:01.000Z');
const R1 = '2026-03-01T09:01:00.000Z';
const R2 = '2026-03-01T09:02:00.000Z';
const R3 = '2026-03-01T09:03:00.000Z';

function token(state: TokenState, overrides: Partial<Token> = {}): Token {
  return storedToken({ state, version: 3, ...overrides });
}

/** A submitted (D1 accepted) TOKEN-scope operation. */
function operation(operationId: string, action: LcmAction, now: Date, virtualCardId = 'vc-1'): Operation {
  const created = newOperation({ operationId, action, issuerCardRefId: 'card-1', virtualCardId, expectedTokens: [virtualCardId], now });
  return deepFreeze(recordSubmission(created, 1, { kind: 'accepted' }, 4, now).operation);
}

/** The callback D1 sends for one of our operations (correlation id = the operation's). */
function ours(op: Operation, overrides: Partial<VirtualCardChange> = {}): VirtualCardChange {
  return deepFreeze({
    correlationId: op.correlationId,
    issuerCardRefId: op.issuerCardRefId,
    virtualCardId: op.virtualCardId ?? 'vc-1',
    action: op.action,
    errorCode: null,
    source: 'ISSUER',
    walletProviderId: null,
    receivedAt: R1,
    ...overrides,
  });
}

function external(action: string, overrides: Partial<VirtualCardChange> = {}): VirtualCardChange {
  return deepFreeze({
    correlationId: 'wallet-corr-1',
    issuerCardRefId: 'card-1',
    virtualCardId: 'vc-1',
    action,
    errorCode: null,
    source: 'WALLET',
    walletProviderId: 'APPLE_PAY',
    receivedAt: R1,
    ...overrides,
  });
}

/** Stores a decision the way the apply use case does: the token version moves on with every recorded event. */
function stored(t: Token | null): Token | null {
  return t ? deepFreeze({ ...t, version: t.version + 1 }) : null;
}

// ---------------------------------------------------------------------------------------------------------

describe('decideCallback: external callbacks (operation null) behave like applyVirtualCardChange', () => {
  const cases: Array<[string, Token | null, VirtualCardChange]> = [
    ['SUSPEND on ACTIVE', token('ACTIVE'), external('SUSPEND')],
    ['RESUME on SUSPENDED', token('SUSPENDED'), external('RESUME')],
    ['DELETE on ACTIVE', token('ACTIVE'), external('DELETE')],
    ['DELETE_FROM_APP on SUSPENDED', token('SUSPENDED'), external('DELETE_FROM_APP')],
    ['RESUME on DELETED', token('DELETED'), external('RESUME')],
    ['failure 221', token('ACTIVE'), external('SUSPEND', { errorCode: 221 })],
    ['unknown action', token('ACTIVE'), external('FREEZE')],
    ['RENEW', token('ACTIVE'), external('RENEW')],
    ['ACTIVATE on an unknown token', null, external('ACTIVATE')],
    ['failure on an unknown token', null, external('ACTIVATE', { errorCode: 221 })],
    ['after one of our changes', token('SUSPENDED', { lastOperationOrder: 'x', lastOperationId: 'op-x', lastChangeSource: 'ISSUER' }), external('RESUME')],
  ];

  it.each(cases)('%s', (_name, current, change) => {
    const decision = decideCallback(current, null, change);
    expect(decision.operation).toBeNull();
    expect(decision.change).toEqual(applyVirtualCardChange(current, change, null));
  });

  it('an external change resets lastOperationOrder to null', () => {
    const decision = decideCallback(token('SUSPENDED', { lastOperationOrder: 'x' }), null, external('RESUME'));
    expect(decision.change.token).toMatchObject({ state: 'ACTIVE', lastOperationOrder: null, lastOperationId: null, lastChangeSource: 'WALLET' });
  });
});

describe('decideCallback: callbacks of our operations', () => {
  it('success on an ACTIVE token → APPLIED, source ISSUER, operationId set, lastOperationOrder = op.order, op SUCCEEDED', () => {
    const op = operation('op-1', 'SUSPEND', T_OP1);
    const decision = decideCallback(token('ACTIVE'), op, ours(op));

    expect(decision.change.outcome).toBe('APPLIED');
    expect(decision.change.reason).toBeNull();
    expect(decision.change.tokenChanged).toBe(true);
    expect(decision.change.token).toMatchObject({
      state: 'SUSPENDED',
      lastAction: 'SUSPEND',
      lastChangeSource: 'ISSUER',
      lastOperationId: 'op-1',
      lastOperationOrder: op.order,
      updatedAt: R1,
    });
    expect(decision.change.event).toMatchObject({
      outcome: 'APPLIED',
      source: 'ISSUER',
      operationId: 'op-1',
      correlationId: op.correlationId,
      action: 'SUSPEND',
      errorCode: null,
      stateAfter: 'SUSPENDED',
      at: R1,
    });
    expect(decision.operation).not.toBeNull();
    expect(decision.operation?.status).toBe('SUCCEEDED');
    expect(decision.operation?.tokens).toEqual([{ virtualCardId: 'vc-1', outcome: 'SUCCEEDED', at: R1 }]);
  });

  it('source ISSUER for our operation whatever the callback says', () => {
    const op = operation('op-1', 'SUSPEND', T_OP1);
    const decision = decideCallback(token('ACTIVE'), op, ours(op, { source: 'WALLET' }));
    expect(decision.change.event.source).toBe('ISSUER');
    expect(decision.change.token?.lastChangeSource).toBe('ISSUER');
  });

  it('a success from a PENDING operation (callback beat the D1 answer) moves it forward', () => {
    const pending = deepFreeze(
      newOperation({ operationId: 'op-1', action: 'RESUME', issuerCardRefId: 'card-1', virtualCardId: 'vc-1', expectedTokens: ['vc-1'], now: T_OP1 }),
    );
    const decision = decideCallback(token('SUSPENDED'), pending, ours(pending));
    expect(decision.change.token?.state).toBe('ACTIVE');
    expect(decision.operation?.status).toBe('SUCCEEDED');
  });

  it('failure (errorCode 221) → FAILED, token unchanged, op outcome FAILED with errorCode', () => {
    const op = operation('op-1', 'SUSPEND', T_OP1);
    const current = token('ACTIVE');
    const decision = decideCallback(current, op, ours(op, { errorCode: 221 }));

    expect(decision.change.outcome).toBe('FAILED');
    expect(decision.change.tokenChanged).toBe(false);
    expect(decision.change.token).toEqual(current);
    expect(decision.change.event).toMatchObject({ outcome: 'FAILED', errorCode: 221, operationId: 'op-1', stateAfter: 'ACTIVE' });
    expect(decision.operation?.tokens).toEqual([{ virtualCardId: 'vc-1', outcome: 'FAILED', errorCode: 221, at: R1 }]);
    expect(decision.operation?.status).toBe('FAILED');
    expect(decision.operation?.failure).toEqual({ reason: 'CALLBACK_ERROR', errorCode: 221 });
  });

  it('failure on a token we do not know: not created, outcome still recorded on the operation', () => {
    const op = operation('op-1', 'SUSPEND', T_OP1);
    const decision = decideCallback(null, op, ours(op, { errorCode: 221 }));
    expect(decision.change.token).toBeNull();
    expect(decision.operation?.tokens[0]).toMatchObject({ outcome: 'FAILED', errorCode: 221 });
  });

  describe('second outcome for the same (operation, token) → IGNORED SECOND_OUTCOME, nothing else touched', () => {
    it.each<[string, number | null, number | null]>([
      ['success, then failure', null, 221],
      ['failure, then success', 221, null],
      ['failure 221, then failure 222', 221, 222],
    ])('%s', (_name, firstCode, secondCode) => {
      const op = operation('op-1', 'SUSPEND', T_OP1);
      const first = decideCallback(token('ACTIVE'), op, ours(op, { errorCode: firstCode, receivedAt: R1 }));
      const tokenAfterFirst = stored(first.change.token);
      const opAfterFirst = deepFreeze(first.operation!);

      const second = decideCallback(tokenAfterFirst, opAfterFirst, ours(op, { errorCode: secondCode, receivedAt: R2 }));
      expect(second.change.outcome).toBe('IGNORED');
      expect(second.change.reason).toBe('SECOND_OUTCOME');
      expect(second.change.tokenChanged).toBe(false);
      expect(second.change.token).toEqual(tokenAfterFirst);
      expect(second.operation).toBeNull();
      expect(second.change.event).toMatchObject({ outcome: 'IGNORED', operationId: 'op-1', errorCode: secondCode, at: R2, stateAfter: tokenAfterFirst?.state });
      // The operation keeps the first outcome.
      expect(opAfterFirst.tokens).toHaveLength(1);
      expect(opAfterFirst.tokens[0]?.outcome).toBe(firstCode === null ? 'SUCCEEDED' : 'FAILED');
    });

    it('a failure after an applied success does not revert the token', () => {
      const op = operation('op-1', 'DELETE', T_OP1);
      const first = decideCallback(token('ACTIVE'), op, ours(op));
      const second = decideCallback(stored(first.change.token), deepFreeze(first.operation!), ours(op, { errorCode: 221, receivedAt: R2 }));
      expect(second.change.token?.state).toBe('DELETED');
      expect(second.change.reason).toBe('SECOND_OUTCOME');
    });
  });

  describe('rule 5: our operations apply in the order they were requested', () => {
    it('op1 < op2; op2 applied, then op1 success → SUPERSEDED, state stays op2, op1 outcome SUPERSEDED and SUCCEEDED', () => {
      const op1 = operation('op-1', 'SUSPEND', T_OP1);
      const op2 = operation('op-2', 'RESUME', T_OP2);
      expect(op2.order > op1.order).toBe(true);

      const d2 = decideCallback(token('SUSPENDED'), op2, ours(op2, { receivedAt: R1 }));
      expect(d2.change.outcome).toBe('APPLIED');
      const afterOp2 = stored(d2.change.token)!;
      expect(afterOp2).toMatchObject({ state: 'ACTIVE', lastOperationOrder: op2.order, lastOperationId: 'op-2' });

      const d1 = decideCallback(afterOp2, op1, ours(op1, { receivedAt: R2 }));
      expect(d1.change.outcome).toBe('SUPERSEDED');
      expect(d1.change.reason).toBeNull();
      expect(d1.change.tokenChanged).toBe(false);
      expect(d1.change.token).toEqual(afterOp2);
      expect(d1.change.event).toMatchObject({ outcome: 'SUPERSEDED', operationId: 'op-1', stateAfter: 'ACTIVE' });
      expect(d1.operation?.tokens).toEqual([{ virtualCardId: 'vc-1', outcome: 'SUPERSEDED', at: R2 }]);
      expect(d1.operation?.status).toBe('SUCCEEDED');
      expect(d1.operation?.failure).toBeNull();
    });

    it('op1 then op2 in creation order → both APPLIED, the newer stands', () => {
      const op1 = operation('op-1', 'SUSPEND', T_OP1);
      const op2 = operation('op-2', 'RESUME', T_OP2);
      const d1 = decideCallback(token('ACTIVE'), op1, ours(op1, { receivedAt: R1 }));
      const d2 = decideCallback(stored(d1.change.token), op2, ours(op2, { receivedAt: R2 }));
      expect([d1.change.outcome, d2.change.outcome]).toEqual(['APPLIED', 'APPLIED']);
      expect(d2.change.token).toMatchObject({ state: 'ACTIVE', lastOperationOrder: op2.order });
    });

    it('op2 applied, then an external change, then op1 success → APPLIED (the last applied change is external)', () => {
      const op1 = operation('op-1', 'RESUME', T_OP1);
      const op2 = operation('op-2', 'RESUME', T_OP2);

      const d2 = decideCallback(token('SUSPENDED'), op2, ours(op2, { receivedAt: R1 }));
      expect(d2.change.outcome).toBe('APPLIED');
      const ext = decideCallback(stored(d2.change.token), null, external('SUSPEND', { receivedAt: R2 }));
      expect(ext.change.token).toMatchObject({ state: 'SUSPENDED', lastOperationOrder: null, lastChangeSource: 'WALLET' });

      const d1 = decideCallback(stored(ext.change.token), op1, ours(op1, { receivedAt: R3 }));
      expect(d1.change.outcome).toBe('APPLIED');
      expect(d1.change.token).toMatchObject({ state: 'ACTIVE', lastOperationId: 'op-1', lastOperationOrder: op1.order });
      expect(d1.operation?.tokens[0]?.outcome).toBe('SUCCEEDED');
    });

    it('a failed external callback does not reset the ordering (op1 still SUPERSEDED)', () => {
      const op1 = operation('op-1', 'SUSPEND', T_OP1);
      const op2 = operation('op-2', 'RESUME', T_OP2);
      const d2 = decideCallback(token('SUSPENDED'), op2, ours(op2, { receivedAt: R1 }));
      const ext = decideCallback(stored(d2.change.token), null, external('SUSPEND', { errorCode: 221, receivedAt: R2 }));
      expect(ext.change.outcome).toBe('FAILED');
      const d1 = decideCallback(stored(ext.change.token), op1, ours(op1, { receivedAt: R3 }));
      expect(d1.change.outcome).toBe('SUPERSEDED');
      expect(d1.change.token?.state).toBe('ACTIVE');
    });

    it('a failure of op2 does not supersede op1 (nothing of op2 was applied)', () => {
      const op1 = operation('op-1', 'SUSPEND', T_OP1);
      const op2 = operation('op-2', 'RESUME', T_OP2);
      const d2 = decideCallback(token('ACTIVE'), op2, ours(op2, { errorCode: 221, receivedAt: R1 }));
      const d1 = decideCallback(stored(d2.change.token), op1, ours(op1, { receivedAt: R2 }));
      expect(d1.change.outcome).toBe('APPLIED');
      expect(d1.change.token?.state).toBe('SUSPENDED');
    });
  });

  it('success on a DELETED token → history IGNORED (TOKEN_DELETED) but op outcome SUCCEEDED', () => {
    const op = operation('op-1', 'SUSPEND', T_OP1);
    const current = token('DELETED', { lastAction: 'DELETE_FROM_APP' });
    const decision = decideCallback(current, op, ours(op));
    expect(decision.change.outcome).toBe('IGNORED');
    expect(decision.change.reason).toBe('TOKEN_DELETED');
    expect(decision.change.token).toEqual(current);
    expect(decision.change.tokenChanged).toBe(false);
    expect(decision.change.event).toMatchObject({ outcome: 'IGNORED', stateAfter: 'DELETED', operationId: 'op-1' });
    expect(decision.operation?.tokens).toEqual([{ virtualCardId: 'vc-1', outcome: 'SUCCEEDED', at: R1 }]);
    expect(decision.operation?.status).toBe('SUCCEEDED');
  });

  it('unknown action with our correlation id → IGNORED, operation null', () => {
    const op = operation('op-1', 'SUSPEND', T_OP1);
    const current = token('ACTIVE');
    const decision = decideCallback(current, op, ours(op, { action: 'FREEZE' }));
    expect(decision.change.outcome).toBe('IGNORED');
    expect(decision.change.reason).toBe('UNKNOWN_ACTION');
    expect(decision.change.token).toEqual(current);
    expect(decision.operation).toBeNull();
  });

  it('unknown action with an errorCode and our correlation id → FAILED in history, operation null', () => {
    const op = operation('op-1', 'SUSPEND', T_OP1);
    const decision = decideCallback(token('ACTIVE'), op, ours(op, { action: 'FREEZE', errorCode: 221 }));
    expect(decision.change.tokenChanged).toBe(false);
    expect(decision.operation).toBeNull();
  });

  it('a callback for a final operation still records the outcome; status stays (rule 8)', () => {
    const rejected = deepFreeze(
      recordSubmission(
        newOperation({ operationId: 'op-1', action: 'SUSPEND', issuerCardRefId: 'card-1', virtualCardId: 'vc-1', expectedTokens: ['vc-1'], now: T_OP1 }),
        1,
        { kind: 'http-error', status: 400, responseCode: 111 },
        4,
        T_OP1,
      ).operation,
    );
    const decision = decideCallback(token('ACTIVE'), rejected, ours(rejected));
    expect(decision.operation?.status).toBe('FAILED');
    expect(decision.operation?.failure).toEqual({ reason: 'D1_REJECTED', responseCode: 111 });
    expect(decision.operation?.tokens).toHaveLength(1);
  });

  it('CARD scope: each token reported once completes it', () => {
    const card = deepFreeze(
      recordSubmission(
        newOperation({ operationId: 'op-c', action: 'SUSPEND', issuerCardRefId: 'card-1', expectedTokens: ['vc-1', 'vc-2'], now: T_OP1 }),
        1,
        { kind: 'accepted' },
        4,
        T_OP1,
      ).operation,
    );
    const a = decideCallback(token('ACTIVE'), card, ours(card, { virtualCardId: 'vc-1' }));
    expect(a.operation?.status).toBe('SUBMITTED');
    const b = decideCallback(
      token('ACTIVE', { virtualCardId: 'vc-2' }),
      deepFreeze(a.operation!),
      ours(card, { virtualCardId: 'vc-2', errorCode: 221, receivedAt: R2 }),
    );
    expect(b.operation?.status).toBe('PARTIALLY_FAILED');
    expect(b.change.token?.state).toBe('ACTIVE');
  });
});
