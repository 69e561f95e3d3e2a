import { createHash } from 'node:crypto';
import { changePrecedence, type ChangeEffect } from './change-precedence';
import { latestInstant, type ChangeSource, type Token, type TokenState } from './token';

/**
 * A `notifyVirtualCardChange` callback from D1, as recorded by the webhook: what D1 said, minus `tokenInfo`
 * (card data we never store) and the fields nothing here decides on.
 */
export interface VirtualCardChange {
  correlationId: string;
  issuerCardRefId: string;
  virtualCardId: string;
  /** Case-sensitive; D1 may add values, so any string is accepted and unknown ones are IGNORED. */
  action: string;
  /** Present only when the change failed (e.g. 221: device unreachable after retries). */
  errorCode: number | null;
  /** As D1 sent it (WALLET, TSP, ISSUER, anything else, or absent). */
  source: string | null;
  walletProviderId: string | null;
  /** Which wallet and secure element hold the token, when D1 says (absent from messages queued before they existed). */
  tokenStorageId?: string | null | undefined;
  walletCardRefId?: string | null | undefined;
  /** When the webhook accepted it: callbacks carry no timestamp of their own. */
  receivedAt: string;
}

/** The operation of ours a callback belongs to (its x-correlation-id is the operation's), if any. */
export interface OperationRef {
  operationId: string;
  /** Sortable creation order: a larger value was created later. */
  order: string;
  /** Who asked for the operation (its requestedBy); the history events it causes carry it. */
  requestedBy?: string | null | undefined;
}

export type ChangeOutcome = 'APPLIED' | 'SUPERSEDED' | 'FAILED' | 'IGNORED';
export type IgnoredReason = 'UNKNOWN_ACTION' | 'TOKEN_DELETED' | 'SECOND_OUTCOME' | 'OUT_OF_ORDER';

export interface HistoryEvent {
  at: string;
  action: string;
  source: ChangeSource;
  correlationId: string;
  operationId: string | null;
  /** Who asked for the operation of ours that caused it; null for changes we did not start (and locally). */
  requestedBy: string | null;
  errorCode: number | null;
  outcome: ChangeOutcome;
  /** The token's state once this event was recorded; null while the token is unknown to us. */
  stateAfter: TokenState | null;
}

export interface ChangeDecision {
  outcome: ChangeOutcome;
  reason: IgnoredReason | null;
  /** The token after the change (unchanged when not applied); null = unknown to us and not created. */
  token: Token | null;
  /** Whether the token's fields (not only its version) change. */
  tokenChanged: boolean;
  event: HistoryEvent;
}

/** Actions whose effect we know. `RENEW` keeps the state; a token first seen through it is ACTIVE. */
const STATE_AFTER: Record<string, (current: TokenState | null) => TokenState> = {
  ACTIVATE: () => 'ACTIVE',
  RESUME: () => 'ACTIVE',
  SUSPEND: () => 'SUSPENDED',
  DELETE: () => 'DELETED',
  DELETE_FROM_APP: () => 'DELETED',
  RENEW: (current) => current ?? 'ACTIVE',
};

export const KNOWN_ACTIONS: readonly string[] = Object.keys(STATE_AFTER);
export const isKnownAction = (action: string): boolean => Object.hasOwn(STATE_AFTER, action);

/** How a known action bears on its order (rule 5): the DELETEs are terminal, RENEW sets no state. */
const effectOf = (action: string, nextState: (current: TokenState | null) => TokenState): ChangeEffect =>
  action === 'RENEW' ? 'RENEW' : nextState(null) === 'DELETED' ? 'DELETE' : 'SETS_STATE';

const REPORTED_SOURCES: readonly ChangeSource[] = ['WALLET', 'TSP', 'ISSUER'];

/** ISSUER for our operations; otherwise the callback's own source, UNKNOWN when absent or unrecognised. */
export function changeSource(change: Pick<VirtualCardChange, 'source'>, operation: OperationRef | null): ChangeSource {
  if (operation) return 'ISSUER';
  const reported = change.source as ChangeSource | null;
  return reported !== null && REPORTED_SOURCES.includes(reported) ? reported : 'UNKNOWN';
}

/**
 * Rule 2: the identity of a callback. The same x-correlation-id, virtualCardId, action and errorCode is the
 * same callback, however often D1 delivers it. Hashed so the key has a fixed size whatever D1 sends.
 */
export function dedupeKey(change: Pick<VirtualCardChange, 'correlationId' | 'virtualCardId' | 'action' | 'errorCode'>): string {
  return createHash('sha256')
    .update(JSON.stringify([change.correlationId, change.virtualCardId, change.action, change.errorCode]))
    .digest('base64url');
}

/**
 * Decides what one callback (not seen before: duplicates are caught by the dedupe record) does to the token.
 *
 * - Rule 3: a failed callback (errorCode) never changes the token and never creates one.
 * - Rule 7: an unknown action is recorded as IGNORED and changes nothing; RENEW counts a renewal, keeps state.
 * - Rule 4: DELETED is terminal: any later change to a deleted token is IGNORED.
 * - Rule 5: the order between this change and the ones already applied is changePrecedence's: our operations in
 *   creation order (an older one's success is SUPERSEDED), external changes in arrival order (an overtaken state
 *   change is IGNORED, OUT_OF_ORDER), DELETE terminal, RENEW stateless. A change that applies behind the last one
 *   leaves the fields of the last change to it, so the token ends as it would have in arrival order.
 * - Rule 6: a known, successful action on a token we never saw creates it (that is how we learn tokens).
 */
export function applyVirtualCardChange(current: Token | null, change: VirtualCardChange, operation: OperationRef | null = null): ChangeDecision {
  const source = changeSource(change, operation);
  const event = (outcome: ChangeOutcome, stateAfter: TokenState | null): HistoryEvent => ({
    at: change.receivedAt,
    action: change.action,
    source,
    correlationId: change.correlationId,
    operationId: operation?.operationId ?? null,
    requestedBy: operation?.requestedBy ?? null,
    errorCode: change.errorCode,
    outcome,
    stateAfter,
  });
  const unchanged = (outcome: ChangeOutcome, reason: IgnoredReason | null): ChangeDecision => ({
    outcome,
    reason,
    token: current,
    tokenChanged: false,
    event: event(outcome, current?.state ?? null),
  });

  if (change.errorCode !== null) return unchanged('FAILED', null);
  const nextState = STATE_AFTER[change.action];
  if (!isKnownAction(change.action) || !nextState) return unchanged('IGNORED', 'UNKNOWN_ACTION');
  if (current?.state === 'DELETED') return unchanged('IGNORED', 'TOKEN_DELETED');
  const effect = effectOf(change.action, nextState);
  const precedence = changePrecedence(current, { operationOrder: operation?.order ?? null, effect, receivedAt: change.receivedAt });
  if (precedence === 'SUPERSEDED') return unchanged('SUPERSEDED', null);
  if (precedence === 'OUT_OF_ORDER') return unchanged('IGNORED', 'OUT_OF_ORDER');
  const renewed = effect === 'RENEW';
  // The later-arrived change that stays the token's last change, when this one applies behind it.
  const last = precedence === 'APPLIES_BEHIND_LAST' ? current : null;
  const token: Token = {
    virtualCardId: change.virtualCardId,
    issuerCardRefId: change.issuerCardRefId,
    walletProviderId: last ? (last.walletProviderId ?? change.walletProviderId) : (change.walletProviderId ?? current?.walletProviderId ?? null),
    // Where the token lives, from the last applied change that says so (the standing one first when it stays last).
    tokenStorageId: last ? (last.tokenStorageId ?? change.tokenStorageId ?? null) : (change.tokenStorageId ?? current?.tokenStorageId ?? null),
    walletCardRefId: last ? (last.walletCardRefId ?? change.walletCardRefId ?? null) : (change.walletCardRefId ?? current?.walletCardRefId ?? null),
    // Only reconciliation (D1 getCardInfo) knows the device; callbacks keep it.
    device: current?.device ?? null,
    state: nextState(current?.state ?? null),
    lastAction: last ? last.lastAction : change.action,
    lastChangeSource: last ? last.lastChangeSource : source,
    lastOperationId: last ? last.lastOperationId : (operation?.operationId ?? null),
    renewals: (current?.renewals ?? 0) + (renewed ? 1 : 0),
    lastRenewedAt: renewed ? latestInstant(change.receivedAt, current?.lastRenewedAt ?? null) : (current?.lastRenewedAt ?? null),
    // Never backwards: an operation's callback (creation order) or a DELETE may apply after a later arrival.
    updatedAt: latestInstant(change.receivedAt, current?.updatedAt ?? null),
    // A RENEW changes no state, so the state still comes from whichever change set it: keep its order and arrival.
    lastOperationOrder: renewed && !operation ? (current?.lastOperationOrder ?? null) : (operation?.order ?? null),
    // The latest arrival that set the state: an older operation callback applied now must not reopen the window for
    // external changes that a later-arrived one already overtook.
    lastStateChangeAt: renewed ? (current?.lastStateChangeAt ?? null) : latestInstant(change.receivedAt, current?.lastStateChangeAt ?? null),
    version: current?.version ?? 0,
  };
  return { outcome: 'APPLIED', reason: null, token, tokenChanged: true, event: event('APPLIED', token.state) };
}
