/**
 * Reference model of DESIGN §2 rules 2–8 (issuer side) for many tokens, many cards and our operations of both
 * scopes, written from the design text alone. It imports nothing from lambdas/, so the chaos suites compare two
 * independent readings of the rules. Fed a linear log (operation requests, D1 answers, callbacks in the order the
 * store applied them), it says what every callback must have done and what every token and operation must be.
 *
 * Readings where DESIGN is silent (each matches docs/design.md and the code comments, noted so a reviewer can challenge them):
 *  - a successful callback of ours for a token already DELETED is IGNORED in the history and counts as the
 *    operation's SUCCEEDED outcome for that token (D1 did what we asked);
 *  - an external RENEW is an applied change (lastAction/lastChangeSource/lastOperationId move) but, since it sets
 *    no state, it does not clear rule 5's "last change came from operation M": an older operation's late success
 *    is still SUPERSEDED after it;
 *  - CALLBACK_ERROR's `failure.errorCode` is the code of the failed expected token listed first;
 *  - a failed callback with an unknown action is FAILED (rule 3 read before rule 7), and changes nothing;
 *  - rule 5 "external changes apply in arrival order": arrival is the callback's `receivedAt` (the webhook's stamp).
 *    An external state-changing callback that arrived before the change that set the token's current state was
 *    overtaken in the queue and is IGNORED (OUT_OF_ORDER), state unchanged — except a DELETE / DELETE_FROM_APP
 *    (terminal whatever the order). A RENEW sets no state, so it never makes a change late, and a late RENEW still
 *    counts. An external change applied behind a later-arrived RENEW leaves lastAction/lastChangeSource/
 *    lastOperationId to that RENEW: the token ends as arrival order says. Our operations' callbacks follow creation
 *    order instead, but never move the token's times backwards: an older one applied after later arrivals does not
 *    make the external changes those overtook current again. A callback given without receivedAt, or a token whose
 *    times are unknown, is never late.
 */

export const KNOWN_ACTIONS = ['ACTIVATE', 'RESUME', 'SUSPEND', 'DELETE', 'DELETE_FROM_APP', 'RENEW'] as const;
export type State = 'INACTIVE' | 'ACTIVE' | 'SUSPENDED' | 'DELETED';
export type EventOutcome = 'APPLIED' | 'SUPERSEDED' | 'FAILED' | 'IGNORED';
export type OpStatus = 'PENDING' | 'SUBMITTED' | 'SUCCEEDED' | 'PARTIALLY_FAILED' | 'FAILED';
export type TokenOutcome = 'SUCCEEDED' | 'FAILED' | 'SUPERSEDED';
export type Source = 'ISSUER' | 'WALLET' | 'TSP' | 'UNKNOWN' | 'RECONCILIATION';

/** Rule 8: PENDING < SUBMITTED < final. */
export const STATUS_RANK: Record<OpStatus, number> = { PENDING: 0, SUBMITTED: 1, SUCCEEDED: 2, PARTIALLY_FAILED: 2, FAILED: 2 };
export const isFinalStatus = (s: OpStatus): boolean => STATUS_RANK[s] === 2;

export interface Callback {
  correlationId: string;
  issuerCardRefId: string;
  virtualCardId: string;
  action: string;
  errorCode: number | null;
  source: string | null;
  /** When the webhook accepted it (arrival); absent = no arrival-order check. */
  receivedAt?: string | undefined;
}

/** Rule 2: the identity of a callback. */
export const identityOf = (c: Pick<Callback, 'correlationId' | 'virtualCardId' | 'action' | 'errorCode'>): string =>
  JSON.stringify([c.correlationId, c.virtualCardId, c.action, c.errorCode]);

export interface TokenModel {
  virtualCardId: string;
  issuerCardRefId: string;
  state: State;
  renewals: number;
  lastAction: string | null;
  lastChangeSource: Source | null;
  lastOperationId: string | null;
  /** Rule 5: creation rank of the operation of ours whose change stands, null when an external change does. */
  standingOperation: number | null;
  /** receivedAt of the last applied change in arrival order (the product's updatedAt); null = unknown. */
  updatedAt: string | null;
  /** receivedAt of the change that set the current state (a RENEW sets none); null = unknown. */
  stateChangedAt: string | null;
}

export interface OpTokenOutcome {
  virtualCardId: string;
  outcome: TokenOutcome;
  errorCode?: number;
}

export interface OpFailure {
  reason: 'D1_REJECTED' | 'D1_UNAVAILABLE' | 'CALLBACK_ERROR';
  responseCode?: number;
  errorCode?: number;
}

export interface OpModel {
  operationId: string;
  /** Creation rank: 0, 1, 2… in request order. */
  rank: number;
  action: string;
  scope: 'TOKEN' | 'CARD';
  issuerCardRefId: string;
  virtualCardId: string | null;
  expected: string[];
  status: OpStatus;
  failure: OpFailure | null;
  tokens: OpTokenOutcome[];
}

/** D1's answer to one updateCardState call, as the oracle classifies it (DESIGN §4). */
export type Answer =
  { kind: 'accepted' } | { kind: 'network-error' } | { kind: 'timeout' } | { kind: 'http-error'; status: number; responseCode?: number | undefined };

/** DESIGN §4: network errors, timeouts, 429, 5xx and 400 with responseCode 221/321/322/921 are transient. */
export function isTransientAnswer(a: Answer): boolean {
  if (a.kind === 'network-error' || a.kind === 'timeout') return true;
  if (a.kind !== 'http-error') return false;
  if (a.status === 429 || a.status >= 500) return true;
  return a.status === 400 && [221, 321, 322, 921].includes(a.responseCode ?? -1);
}

export type CallbackVerdict =
  | { duplicate: true }
  | {
      duplicate: false;
      outcome: EventOutcome;
      reason: 'OUT_OF_ORDER' | null;
      stateAfter: State | null;
      operationId: string | null;
      source: Source;
      opOutcome: OpTokenOutcome | null;
    };

const STATE_AFTER: Record<string, State | 'KEEP'> = {
  ACTIVATE: 'ACTIVE',
  RESUME: 'ACTIVE',
  SUSPEND: 'SUSPENDED',
  DELETE: 'DELETED',
  DELETE_FROM_APP: 'DELETED',
  RENEW: 'KEEP',
};

export class LifecycleOracle {
  readonly tokens = new Map<string, TokenModel>();
  readonly ops = new Map<string, OpModel>();
  private readonly seen = new Set<string>();
  private nextRank = 0;

  constructor(private readonly maxAttempts: number) {}

  /** A token already known to us before the log starts (as reconciliation or an earlier callback left it). */
  seedToken(token: Pick<TokenModel, 'virtualCardId' | 'issuerCardRefId' | 'state'> & Partial<TokenModel>): void {
    this.tokens.set(token.virtualCardId, {
      renewals: 0,
      lastAction: null,
      lastChangeSource: null,
      lastOperationId: null,
      standingOperation: null,
      updatedAt: null,
      stateChangedAt: null,
      ...token,
    });
  }

  /** The set a CARD-scope operation would expect now: the card's tokens we know and that are not DELETED. */
  cardExpectation(issuerCardRefId: string): string[] {
    return [...this.tokens.values()]
      .filter((t) => t.issuerCardRefId === issuerCardRefId && t.state !== 'DELETED')
      .map((t) => t.virtualCardId)
      .sort();
  }

  /**
   * POST /v1/lcm-operations. TOKEN scope on a token known as DELETED is refused (409); CARD scope never is.
   * `expected` overrides the computed set (the e2e harness passes the set it derived with in-flight tolerance).
   */
  request(op: { operationId: string; action: string; issuerCardRefId: string; virtualCardId: string | null; expected?: string[] }): OpModel | 'TOKEN_DELETED' {
    if (op.virtualCardId !== null && this.tokens.get(op.virtualCardId)?.state === 'DELETED') return 'TOKEN_DELETED';
    const model: OpModel = {
      operationId: op.operationId,
      rank: this.nextRank++,
      action: op.action,
      scope: op.virtualCardId === null ? 'CARD' : 'TOKEN',
      issuerCardRefId: op.issuerCardRefId,
      virtualCardId: op.virtualCardId,
      expected: op.expected ?? (op.virtualCardId === null ? this.cardExpectation(op.issuerCardRefId) : [op.virtualCardId]),
      status: 'PENDING',
      failure: null,
      tokens: [],
    };
    this.ops.set(op.operationId, model);
    return model;
  }

  /** D1's answer to attempt `attempt`, as recorded. Only a PENDING operation takes it (rule 8). */
  answer(operationId: string, attempt: number, answer: Answer): void {
    const op = this.ops.get(operationId);
    if (!op || op.status !== 'PENDING') return;
    if (answer.kind === 'accepted') {
      op.status = 'SUBMITTED';
      return;
    }
    const responseCode = answer.kind === 'http-error' && answer.responseCode !== undefined ? { responseCode: answer.responseCode } : {};
    if (isTransientAnswer(answer)) {
      if (attempt >= this.maxAttempts) {
        op.status = 'FAILED';
        op.failure = { reason: 'D1_UNAVAILABLE', ...responseCode };
      }
      return;
    }
    op.status = 'FAILED';
    op.failure = { reason: 'D1_REJECTED', ...responseCode };
  }

  /** One delivery reaching the store (rules 2–7), and its effect on our operation (rules 3, 8). */
  callback(cb: Callback): CallbackVerdict {
    const id = identityOf(cb);
    if (this.seen.has(id)) return { duplicate: true };
    this.seen.add(id);

    const op = this.ops.get(cb.correlationId) ?? null;
    const source: Source = op ? 'ISSUER' : cb.source === 'WALLET' || cb.source === 'TSP' || cb.source === 'ISSUER' ? cb.source : 'UNKNOWN';
    const token = this.tokens.get(cb.virtualCardId) ?? null;
    const verdict = (outcome: EventOutcome, opOutcome: OpTokenOutcome | null, reason: 'OUT_OF_ORDER' | null = null): CallbackVerdict => ({
      duplicate: false,
      outcome,
      reason,
      stateAfter: this.tokens.get(cb.virtualCardId)?.state ?? null,
      operationId: op?.operationId ?? null,
      source,
      opOutcome,
    });

    const effect = STATE_AFTER[cb.action];
    // Rule 3: per (operation, token) the first outcome wins; any later one is IGNORED and touches nothing.
    if (effect !== undefined && op && op.tokens.some((t) => t.virtualCardId === cb.virtualCardId)) return verdict('IGNORED', null);
    // A failed callback is FAILED whatever its action (rule 3); an unknown action is never an operation's outcome.
    if (effect === undefined) return verdict(cb.errorCode !== null ? 'FAILED' : 'IGNORED', null); // rule 7

    let outcome: EventOutcome;
    let opOutcome: OpTokenOutcome | null;
    if (cb.errorCode !== null) {
      outcome = 'FAILED'; // rule 3: never changes (nor creates) the token
      opOutcome = { virtualCardId: cb.virtualCardId, outcome: 'FAILED', errorCode: cb.errorCode };
    } else if (token?.state === 'DELETED') {
      outcome = 'IGNORED'; // rule 4
      opOutcome = { virtualCardId: cb.virtualCardId, outcome: 'SUCCEEDED' };
    } else if (op && token && token.standingOperation !== null && token.standingOperation > op.rank) {
      outcome = 'SUPERSEDED'; // rule 5
      opOutcome = { virtualCardId: cb.virtualCardId, outcome: 'SUPERSEDED' };
    } else if (
      !op &&
      token &&
      effect !== 'KEEP' &&
      effect !== 'DELETED' &&
      cb.receivedAt !== undefined &&
      token.stateChangedAt !== null &&
      cb.receivedAt < token.stateChangedAt
    ) {
      return verdict('IGNORED', null, 'OUT_OF_ORDER'); // rule 5: overtaken by a state change that arrived later
    } else {
      outcome = 'APPLIED'; // rules 6, 7: a known successful action creates an unknown token
      const state: State = effect === 'KEEP' ? (token?.state ?? 'ACTIVE') : effect;
      // A late RENEW, or a late external change behind a later-arrived RENEW: in arrival order what stands as the
      // last applied change came after it, so it stays.
      const behind =
        !op &&
        effect !== 'DELETED' &&
        token !== null &&
        cb.receivedAt !== undefined &&
        token.updatedAt !== null &&
        cb.receivedAt < token.updatedAt &&
        (cb.action === 'RENEW' || token.lastAction === 'RENEW');
      const later = (a: string | null | undefined, b: string | null): string | null => (a === undefined || a === null ? b : b === null || a > b ? a : b);
      this.tokens.set(cb.virtualCardId, {
        virtualCardId: cb.virtualCardId,
        issuerCardRefId: cb.issuerCardRefId,
        state,
        renewals: (token?.renewals ?? 0) + (cb.action === 'RENEW' ? 1 : 0),
        lastAction: behind ? token.lastAction : cb.action,
        lastChangeSource: behind ? token.lastChangeSource : source,
        lastOperationId: behind ? token.lastOperationId : (op?.operationId ?? null),
        standingOperation: op ? op.rank : cb.action === 'RENEW' ? (token?.standingOperation ?? null) : null,
        // Times never go backwards: an older callback of ours (creation order) may apply after later arrivals.
        updatedAt: later(cb.receivedAt, token?.updatedAt ?? null),
        stateChangedAt: effect === 'KEEP' ? (token?.stateChangedAt ?? null) : later(cb.receivedAt, token?.stateChangedAt ?? null),
      });
      opOutcome = op ? { virtualCardId: cb.virtualCardId, outcome: 'SUCCEEDED' } : null;
    }
    if (op && opOutcome) this.recordOutcome(op, opOutcome);
    return verdict(outcome, op ? opOutcome : null);
  }

  private recordOutcome(op: OpModel, outcome: OpTokenOutcome): void {
    op.tokens.push(outcome);
    if (isFinalStatus(op.status)) return; // a final status never changes (rule 8)
    const derived = deriveStatus(op.expected, op.tokens);
    op.status = derived.status;
    op.failure = derived.failure;
  }
}

/**
 * DESIGN §3: SUCCEEDED when every expected token reported success, PARTIALLY_FAILED when all reported and some
 * failed, FAILED CALLBACK_ERROR when all reported failure, else SUBMITTED (a callback means D1 accepted it).
 * An empty expected set: the tokens D1 reported stand in for it (none reported → SUBMITTED).
 */
export function deriveStatus(expected: readonly string[], tokens: readonly OpTokenOutcome[]): { status: OpStatus; failure: OpFailure | null } {
  const set = expected.length > 0 ? expected : tokens.map((t) => t.virtualCardId);
  if (set.length === 0) return { status: 'SUBMITTED', failure: null };
  const reported = set.map((vc) => tokens.find((t) => t.virtualCardId === vc));
  if (reported.some((t) => t === undefined)) return { status: 'SUBMITTED', failure: null };
  const failed = reported.filter((t) => t!.outcome === 'FAILED');
  if (failed.length === 0) return { status: 'SUCCEEDED', failure: null };
  if (failed.length < reported.length) return { status: 'PARTIALLY_FAILED', failure: null };
  const errorCode = failed[0]!.errorCode;
  return { status: 'FAILED', failure: errorCode === undefined ? { reason: 'CALLBACK_ERROR' } : { reason: 'CALLBACK_ERROR', errorCode } };
}
