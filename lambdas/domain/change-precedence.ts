import type { Token } from './token';

/**
 * Rule 5, the order between two changes to one token: the change the token already stands on and an incoming one.
 * Callbacks carry no timestamp and the queue may reorder them, so the order is one of two clocks:
 *
 * - our operations follow **creation order**: an operation's change loses only to a change from an operation of ours
 *   created after it (SUPERSEDED), whenever either arrived;
 * - external changes follow **arrival order** (the webhook's receivedAt): they never supersede and are never
 *   superseded, but a state change that arrived before the one that set the current state was overtaken in the
 *   queue (OUT_OF_ORDER);
 * - a **DELETE is terminal**: whatever the order, it applies and stands as the last change;
 * - a **RENEW is stateless**: it never makes another change late, is never late itself, and only decides which
 *   change stands as the last one when the two are out of arrival order.
 *
 * Rules 3, 4 and 7 (failed callbacks, DELETED tokens, unknown actions) are decided before: only a successful,
 * known change to a live or unknown token gets here.
 */

/** What a change does that matters to its order: DELETE is terminal, RENEW sets no state, the others set one. */
export type ChangeEffect = 'SETS_STATE' | 'DELETE' | 'RENEW';

/** The incoming change, as far as its order goes. */
export interface IncomingChange {
  /** The creation order of the operation of ours it belongs to; null for an external change. */
  operationOrder: string | null;
  effect: ChangeEffect;
  /** When the webhook accepted it. */
  receivedAt: string;
}

/** What the token records of the changes already applied: the last one, and the one that set its state. */
export type StandingChange = Pick<Token, 'lastOperationOrder' | 'lastStateChangeAt' | 'updatedAt' | 'lastAction'>;

/**
 * - SUPERSEDED: an older operation's change behind a later-created one's; recorded as its outcome, token untouched.
 * - OUT_OF_ORDER: an external state change overtaken by a later-arrived one; IGNORED, token untouched.
 * - APPLIES_AS_LAST: applies and becomes the token's last change.
 * - APPLIES_BEHIND_LAST: applies (its state or its renewal) but the last change stays: the incoming one arrived before
 *   a RENEW standing as the last change, or is a RENEW that arrived before the last change. In arrival order the
 *   standing one comes after.
 */
export type Precedence = 'SUPERSEDED' | 'OUT_OF_ORDER' | 'APPLIES_AS_LAST' | 'APPLIES_BEHIND_LAST';

/** Which of `standing` (null: a token unknown to us) and `incoming` takes precedence. Instants compare as ISO strings. */
export function changePrecedence(standing: StandingChange | null, incoming: IncomingChange): Precedence {
  if (standing === null) return 'APPLIES_AS_LAST';

  if (incoming.operationOrder !== null) {
    // Creation order only: an external last change, or one from an operation created no later, never supersedes.
    const supersededBy = standing.lastOperationOrder;
    return supersededBy != null && supersededBy > incoming.operationOrder ? 'SUPERSEDED' : 'APPLIES_AS_LAST';
  }

  if (incoming.effect === 'DELETE') return 'APPLIES_AS_LAST';
  // A token whose state no change has set yet (first seen through a RENEW) has nothing to be overtaken by.
  if (incoming.effect === 'SETS_STATE' && standing.lastStateChangeAt != null && incoming.receivedAt < standing.lastStateChangeAt) {
    return 'OUT_OF_ORDER';
  }
  // Not late against the state. When it arrived before the last applied change and either one is a RENEW, neither
  // overrides the other's state, so only which one stands as the last change follows arrival order. A last change
  // from an operation of ours or a reconciliation is not ordered by arrival: this one follows it.
  const arrivedBeforeLast = incoming.receivedAt < standing.updatedAt;
  if (arrivedBeforeLast && (incoming.effect === 'RENEW' || standing.lastAction === 'RENEW')) return 'APPLIES_BEHIND_LAST';
  return 'APPLIES_AS_LAST';
}
