import { recordCallbackOutcome, type Operation } from './operation';
import { latestInstant, sameDevice, type Token, type TokenDevice, type TokenState } from './token';
import type { HistoryEvent } from './virtual-card-change';

/**
 * Reconciliation with D1's own view (`getCardInfo`): issuer callbacks carry no timestamp and can be lost upstream,
 * so D1's list is the tie-breaker. Pure: the use case fetches, this decides.
 */

export interface D1VirtualCard {
  virtualCardId: string;
  status: string;
  walletProviderId?: string | undefined;
  /** What we keep of its `deviceInformation` (manufacturer, model, name: token.ts deviceFrom); null when none. */
  device?: TokenDevice | null | undefined;
}

/** DESIGN §3 mapping of D1 token statuses; an unknown status is left alone (null). */
export function stateFromD1(status: string): TokenState | null {
  switch (status) {
    case 'RESUMED':
    case 'ACTIVE':
      return 'ACTIVE';
    case 'SUSPENDED':
      return 'SUSPENDED';
    case 'DELETED':
    case 'ERASED':
      return 'DELETED';
    case 'INACTIVE':
    case 'DEPLOYMENT_ONGOING':
      return 'INACTIVE';
    default:
      return null;
  }
}

export interface Correction {
  virtualCardId: string;
  from: TokenState | null;
  to: TokenState;
  walletProviderId: string | null;
  /** D1's device for the token, when it names one. */
  device?: TokenDevice | null | undefined;
}

/** D1's device for a correction, when it names one. */
const deviceOf = (card: D1VirtualCard | undefined): { device?: TokenDevice } => (card?.device ? { device: card.device } : {});

/**
 * Drift between our tokens of a card and D1's list: a state that differs is corrected; a token only D1 lists is
 * created; a token D1 no longer lists becomes DELETED; DELETED stays DELETED whatever D1 says.
 */
export function planCorrections(ours: readonly Token[], d1: readonly D1VirtualCard[]): Correction[] {
  const corrections: Correction[] = [];
  const listed = new Map(d1.map((card) => [card.virtualCardId, card]));
  for (const token of ours) {
    if (token.state === 'DELETED') continue;
    const card = listed.get(token.virtualCardId);
    const to = card ? stateFromD1(card.status) : 'DELETED';
    if (to !== null && to !== token.state)
      corrections.push({ virtualCardId: token.virtualCardId, from: token.state, to, walletProviderId: token.walletProviderId, ...deviceOf(card) });
  }
  const known = new Set(ours.map((t) => t.virtualCardId));
  for (const card of d1) {
    const to = stateFromD1(card.status);
    if (!known.has(card.virtualCardId) && to !== null) {
      corrections.push({ virtualCardId: card.virtualCardId, from: null, to, walletProviderId: card.walletProviderId ?? null, ...deviceOf(card) });
    }
  }
  return corrections;
}

/**
 * Tokens whose state needs no correction but whose device D1 describes otherwise than we store: their device is
 * refreshed (no history event: the token's state and last change stay). A DELETED token, or one D1 lists without a
 * device, keeps what it has.
 */
export function planDeviceUpdates(
  ours: readonly Token[],
  d1: readonly D1VirtualCard[],
  corrections: readonly Correction[],
): { token: Token; device: TokenDevice }[] {
  const corrected = new Set(corrections.map((c) => c.virtualCardId));
  const listed = new Map(d1.map((card) => [card.virtualCardId, card]));
  const updates: { token: Token; device: TokenDevice }[] = [];
  for (const token of ours) {
    const device = listed.get(token.virtualCardId)?.device ?? null;
    if (token.state === 'DELETED' || corrected.has(token.virtualCardId) || device === null || sameDevice(token.device, device)) continue;
    updates.push({ token, device });
  }
  return updates;
}

/**
 * The token after a correction, and its history event (action RECONCILE, source RECONCILIATION). `askedAt` is when
 * D1 was asked: its answer sets the state as of then, so a callback that arrived after that instant is newer than
 * the correction and still applies (arrival order), even if the correction was written first.
 */
export function applyCorrection(
  current: Token | null,
  issuerCardRefId: string,
  correction: Correction,
  reconciliationId: string,
  now: Date,
  askedAt: Date = now,
): { token: Token; event: HistoryEvent } {
  const at = now.toISOString();
  const token: Token = {
    virtualCardId: correction.virtualCardId,
    issuerCardRefId: current?.issuerCardRefId ?? issuerCardRefId,
    walletProviderId: current?.walletProviderId ?? correction.walletProviderId,
    tokenStorageId: current?.tokenStorageId ?? null,
    walletCardRefId: current?.walletCardRefId ?? null,
    device: correction.device ?? current?.device ?? null,
    state: correction.to,
    lastAction: 'RECONCILE',
    lastChangeSource: 'RECONCILIATION',
    lastOperationId: null,
    renewals: current?.renewals ?? 0,
    lastRenewedAt: current?.lastRenewedAt ?? null,
    updatedAt: latestInstant(at, current?.updatedAt ?? null),
    // D1's view now stands: no operation of ours is the last applied change.
    lastOperationOrder: null,
    lastStateChangeAt: askedAt.toISOString(),
    version: current?.version ?? 0,
  };
  const event: HistoryEvent = {
    at,
    action: 'RECONCILE',
    source: 'RECONCILIATION',
    correlationId: reconciliationId,
    operationId: null,
    requestedBy: null,
    errorCode: null,
    outcome: 'APPLIED',
    stateAfter: correction.to,
  };
  return { token, event };
}

const TARGET: Record<Operation['action'], TokenState> = { SUSPEND: 'SUSPENDED', RESUME: 'ACTIVE', DELETE: 'DELETED' };

/**
 * Settles an operation still waiting for callbacks: an expected token D1 reports in the operation's target state
 * counts as SUCCEEDED; once the operation is older than `reconcileAfterMs`, the rest count as FAILED. A card-scope
 * operation with an empty expected set settles on the card's tokens D1 lists (none listed: nothing to wait for).
 * Returns null when nothing changes.
 */
export function settleOperation(op: Operation, d1: readonly D1VirtualCard[], now: Date, reconcileAfterMs: number): Operation | null {
  if (op.status !== 'SUBMITTED') return null;
  const target = TARGET[op.action];
  const d1State = new Map(d1.map((card) => [card.virtualCardId, stateFromD1(card.status)]));
  const overdue = now.getTime() - Date.parse(op.createdAt) >= reconcileAfterMs;
  const at = now.toISOString();
  // An empty expected set waits for the tokens D1 lists for the card (recorded outcomes are judged against them).
  const expected = op.expectedTokens.length > 0 ? op.expectedTokens : d1.map((c) => c.virtualCardId);
  if (expected.length === 0) return overdue ? { ...op, status: 'SUCCEEDED', updatedAt: at } : null;

  let settled: Operation = { ...op, expectedTokens: expected };
  for (const virtualCardId of expected) {
    if (settled.tokens.some((t) => t.virtualCardId === virtualCardId)) continue;
    // A DELETE whose token D1 no longer lists is done.
    const reported = d1State.has(virtualCardId) ? d1State.get(virtualCardId) : 'DELETED';
    if (reported === target) settled = recordCallbackOutcome(settled, { virtualCardId, outcome: 'SUCCEEDED', at }).operation;
    else if (overdue) settled = recordCallbackOutcome(settled, { virtualCardId, outcome: 'FAILED', at }).operation;
  }
  if (settled.tokens.length === op.tokens.length && settled.status === op.status) return null;
  return { ...settled, expectedTokens: op.expectedTokens };
}
