import { decideCallback } from '../domain/callback';
import { mayBeOurOperation, type Operation } from '../domain/operation';
import { dedupeKey, type ChangeDecision, type VirtualCardChange } from '../domain/virtual-card-change';
import type { TokenStore } from '../ports/token-store';

export type ApplyResult = { duplicate: true } | ({ duplicate: false; operation: Operation | null } & ChangeDecision);

/** Concurrent writers on one token are rare (one per callback); a few re-reads settle them. */
const MAX_CONFLICT_RETRIES = 8;

export class ConcurrentUpdateError extends Error {
  constructor(virtualCardId: string) {
    super(`token ${virtualCardId} kept changing; left for redelivery`);
    this.name = 'ConcurrentUpdateError';
  }
}

/**
 * Apply consumer (rules 2–8): read the token and the operation the x-correlation-id names (if it is ours), let the
 * domain decide, then record event + token + operation in one conditional write. The dedupe record makes a
 * redelivered or concurrently delivered callback a no-op (DUPLICATE); the version conditions make a decision
 * taken on stale reads fail (CONFLICT) and be retaken. The reads only inform the decision; the conditions enforce it.
 *
 * (primary adapter) SQS consumer → this use case → (secondary adapter) DynamoDB
 */
export async function processVirtualCardChange(deps: { store: TokenStore }, change: VirtualCardChange): Promise<ApplyResult> {
  const key = dedupeKey(change);
  const operationId = mayBeOurOperation(change.correlationId) ? change.correlationId : null;
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const { token: current, operation } = await deps.store.getTokenAndOperation(change.virtualCardId, operationId);
    const decision = decideCallback(current, operation, change);
    const result = await deps.store.recordChange({
      dedupeKey: key,
      virtualCardId: change.virtualCardId,
      expectedVersion: current?.version ?? null,
      // A known token gets its version bumped even when unchanged: its history sequence moves on.
      token: decision.change.token,
      event: decision.change.event,
      operation:
        decision.operation && operation ? { value: decision.operation, expectedVersion: operation.version, previousStatus: operation.status } : undefined,
    });
    if (result === 'DUPLICATE') return { duplicate: true };
    if (result === 'RECORDED') return { duplicate: false, operation: decision.operation, ...decision.change };
  }
  throw new ConcurrentUpdateError(change.virtualCardId);
}
