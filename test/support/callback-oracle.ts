/**
 * Reference model of DESIGN §2 rules 2, 3, 4, 6 and 7 for ONE token fed only external callbacks (no operations
 * of ours, so rule 5 never applies). Written from the design text alone, deliberately naive, and independent of
 * `lambdas/domain/virtual-card-change.ts` (it imports nothing from the product), so the property tests compare
 * two independent readings of the rules.
 */

/** The actions whose effect DESIGN §3 "State after a callback" defines. Anything else is unknown (rule 7). */
export const ORACLE_KNOWN_ACTIONS = ['ACTIVATE', 'RESUME', 'SUSPEND', 'DELETE', 'DELETE_FROM_APP', 'RENEW'] as const;

export type OracleState = 'INACTIVE' | 'ACTIVE' | 'SUSPENDED' | 'DELETED';

/** What the oracle reads from a callback: its identity (rule 2) and what it asks for. */
export interface OracleCallback {
  correlationId: string;
  virtualCardId: string;
  action: string;
  errorCode: number | null;
}

export interface OracleToken {
  exists: boolean;
  state: OracleState | null;
  renewals: number;
  lastAction: string | null;
}

export const NO_TOKEN: OracleToken = { exists: false, state: null, renewals: 0, lastAction: null };

/** Rule 2: the identity of a callback, as a plain tuple (no hashing, no separators to confuse). */
export const callbackIdentity = (c: OracleCallback): string => JSON.stringify([c.correlationId, c.virtualCardId, c.action, c.errorCode]);

/** Rule 2: keeps the first delivery of each distinct callback, in arrival order. */
export function distinctCallbacks<T extends OracleCallback>(arrivals: readonly T[]): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const c of arrivals) {
    const id = callbackIdentity(c);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(c);
  }
  return out;
}

/**
 * The expected token after the callbacks arrive in the given order, starting from `initial` (unknown by default).
 *   - duplicates (same correlationId, virtualCardId, action, errorCode) are skipped entirely (rule 2);
 *   - a failed callback (errorCode set) changes nothing and never creates (rule 3);
 *   - an unknown action changes nothing and never creates (rule 7);
 *   - a DELETED token never changes again (rule 4);
 *   - a known successful action creates the token if unknown (rule 6, §3);
 *   - ACTIVATE/RESUME → ACTIVE, SUSPEND → SUSPENDED, DELETE/DELETE_FROM_APP → DELETED;
 *     RENEW keeps the state (ACTIVE when first seen) and counts one renewal (rule 7).
 */
export function expectedToken(arrivals: readonly OracleCallback[], initial: OracleToken = NO_TOKEN): OracleToken {
  let token = { ...initial };
  for (const c of distinctCallbacks(arrivals)) {
    if (c.errorCode !== null) continue;
    if (!(ORACLE_KNOWN_ACTIONS as readonly string[]).includes(c.action)) continue;
    if (token.exists && token.state === 'DELETED') continue;

    let state: OracleState;
    if (c.action === 'ACTIVATE' || c.action === 'RESUME') state = 'ACTIVE';
    else if (c.action === 'SUSPEND') state = 'SUSPENDED';
    else if (c.action === 'DELETE' || c.action === 'DELETE_FROM_APP') state = 'DELETED';
    else state = token.exists && token.state !== null ? token.state : 'ACTIVE'; // RENEW

    token = {
      exists: true,
      state,
      renewals: token.renewals + (c.action === 'RENEW' ? 1 : 0),
      lastAction: c.action,
    };
  }
  return token;
}
