/** The issuer-side token (a D1 "virtual card") as we track it. */

export const TOKEN_STATES = ['INACTIVE', 'ACTIVE', 'SUSPENDED', 'DELETED'] as const;
export type TokenState = (typeof TOKEN_STATES)[number];

export const CHANGE_SOURCES = ['ISSUER', 'WALLET', 'TSP', 'RECONCILIATION', 'UNKNOWN'] as const;
export type ChangeSource = (typeof CHANGE_SOURCES)[number];

export interface Token {
  virtualCardId: string;
  issuerCardRefId: string;
  walletProviderId: string | null;
  state: TokenState;
  /** The last *applied* callback (RENEW counts; failed, superseded, ignored and duplicate ones do not). */
  lastAction: string | null;
  lastChangeSource: ChangeSource | null;
  lastOperationId: string | null;
  renewals: number;
  lastRenewedAt: string | null;
  updatedAt: string;
  /**
   * Rule 5: creation order of the operation of ours whose change was applied last, null when the last applied
   * change was external. An older operation's late success is SUPERSEDED only against this.
   */
  lastOperationOrder: string | null;
  /**
   * Rule 5, arrival order: when the change that set the current state arrived (its receivedAt). A RENEW sets no
   * state and leaves it alone, so an external change overtaken in the queue only by RENEWs still applies. Null
   * when no change has set the state yet (a token first seen through RENEW).
   */
  lastStateChangeAt: string | null;
  /** Bumped by every write to the token (one per recorded event): optimistic concurrency and history order. */
  version: number;
}

/** The later of two ISO instants (both `toISOString()` UTC, so they order as strings); `b` may be absent. */
export const latestInstant = (a: string, b: string | null): string => (b !== null && b > a ? b : a);

/** The public view (DESIGN §3 Token): bookkeeping fields stay inside. */
export function tokenView(token: Token): Omit<Token, 'lastOperationOrder' | 'lastStateChangeAt' | 'version'> {
  const { lastOperationOrder: _order, lastStateChangeAt: _stateAt, version: _version, ...view } = token;
  return view;
}
