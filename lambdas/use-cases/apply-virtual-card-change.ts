import { applyVirtualCardChange, dedupeKey, type ChangeDecision, type VirtualCardChange } from '../domain/virtual-card-change';
import type { TokenStore } from '../ports/token-store';

export type ApplyResult = { duplicate: true } | ({ duplicate: false } & ChangeDecision);

/** Concurrent writers on one token are rare (one per callback); a few re-reads settle them. */
const MAX_CONFLICT_RETRIES = 8;

export class ConcurrentUpdateError extends Error {
  constructor(virtualCardId: string) {
    super(`token ${virtualCardId} kept changing; left for redelivery`);
    this.name = 'ConcurrentUpdateError';
  }
}

/**
 * Apply consumer (rules 2–7): read the token, let the domain decide, then record event + token in one
 * conditional write. The dedupe record makes a redelivered or concurrently delivered callback a no-op
 * (DUPLICATE); the version condition makes a decision taken on a stale read fail (CONFLICT) and be retaken.
 * The read only informs the decision; the condition is what enforces it.
 *
 * (primary adapter) SQS consumer → this use case → (secondary adapter) DynamoDB
 */
export async function applyVirtualCardChangeUseCase(deps: { store: TokenStore }, change: VirtualCardChange): Promise<ApplyResult> {
  const key = dedupeKey(change);
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const current = await deps.store.getToken(change.virtualCardId);
    const decision = applyVirtualCardChange(current, change);
    const result = await deps.store.recordChange({
      dedupeKey: key,
      virtualCardId: change.virtualCardId,
      expectedVersion: current?.version ?? null,
      // A known token gets its version bumped even when unchanged: its history sequence moves on.
      token: decision.token,
      event: decision.event,
    });
    if (result === 'DUPLICATE') return { duplicate: true };
    if (result === 'RECORDED') return { duplicate: false, ...decision };
  }
  throw new ConcurrentUpdateError(change.virtualCardId);
}
