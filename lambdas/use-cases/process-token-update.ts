import { applyTokenUpdate, type TokenUpdate, type TokenUpdateDecision } from '../domain/network-token';
import type { NetworkTokenStore } from '../ports/network-tokens';

const MAX_CONFLICT_RETRIES = 8;

/**
 * Apply consumer (rules 10, 11): decide on a fresh read, write on the read version. Two deliveries racing — the
 * same update twice, or an older and a newer one — cannot both win: the loser's write fails its condition, it
 * re-reads, and is then a DUPLICATE or STALE.
 */
export async function processTokenUpdate(deps: { store: NetworkTokenStore }, update: TokenUpdate): Promise<TokenUpdateDecision> {
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const current = await deps.store.get(update.tokenId);
    const decision = applyTokenUpdate(current, update);
    if (decision.outcome !== 'APPLIED' || !decision.token) return decision;
    const saved = await deps.store.applyUpdate(decision.token, current?.version ?? null, decision.dropTokenPan);
    if (saved === 'SAVED') return decision;
  }
  throw new Error(`network token ${update.tokenId} kept changing; left for redelivery`);
}
