import { recordCallbackOutcome, type Operation, type TokenOutcome } from './operation';
import type { Token } from './token';
import { applyVirtualCardChange, isKnownAction, type ChangeDecision, type VirtualCardChange } from './virtual-card-change';

export interface CallbackDecision {
  /** What happens to the token, and the history event. */
  change: ChangeDecision;
  /** The operation after recording this token's outcome; null when the callback is not ours or changes nothing. */
  operation: Operation | null;
}

/**
 * One callback against the token and, when its x-correlation-id is one of our operations, that operation.
 *
 * The token side is applyVirtualCardChange (rules 2–7, including rule 5's supersession). The operation records
 * the token's outcome — FAILED with the errorCode, SUPERSEDED, or SUCCEEDED (also when the token was already
 * DELETED: D1 did what we asked) — and the first outcome per (operation, token) wins: a later, different
 * outcome is IGNORED in the history and touches neither the token nor the operation (rule 3).
 */
export function decideCallback(token: Token | null, operation: Operation | null, change: VirtualCardChange): CallbackDecision {
  const ref = operation ? { operationId: operation.operationId, order: operation.order, requestedBy: operation.requestedBy } : null;
  const decision = applyVirtualCardChange(token, change, ref);
  if (!operation || !isKnownAction(change.action)) return { change: decision, operation: null };

  const outcome: TokenOutcome = decision.outcome === 'FAILED' ? 'FAILED' : decision.outcome === 'SUPERSEDED' ? 'SUPERSEDED' : 'SUCCEEDED';
  const recorded = recordCallbackOutcome(operation, {
    virtualCardId: change.virtualCardId,
    outcome,
    ...(change.errorCode !== null ? { errorCode: change.errorCode } : {}),
    at: change.receivedAt,
  });
  if (recorded.accepted) return { change: decision, operation: recorded.operation };

  return {
    change: {
      outcome: 'IGNORED',
      reason: 'SECOND_OUTCOME',
      token,
      tokenChanged: false,
      event: { ...decision.event, outcome: 'IGNORED', stateAfter: token?.state ?? null },
    },
    operation: null,
  };
}
