import { createHash, randomUUID } from 'node:crypto';
import { DomainError } from '../domain/errors';
import { applyCorrection, planCorrections, planDeviceUpdates, settleOperation, type Correction } from '../domain/reconciliation';
import type { D1IssuerGateway } from '../ports/d1-issuer';
import type { OperationStore } from '../ports/operation-store';
import type { TokenStore } from '../ports/token-store';
import { allCardTokens } from './card-tokens';

export interface ReconcileDeps {
  tokens: TokenStore;
  operations: Pick<OperationStore, 'listOpen' | 'save'>;
  d1: Pick<D1IssuerGateway, 'getCardInfo'>;
  reconcileAfterMs: number;
  now: () => Date;
  newId?: () => string;
}

export interface ReconcileResult {
  issuerCardRefId: string;
  corrected: { virtualCardId: string; from: Correction['from']; to: Correction['to'] }[];
  settledOperations: string[];
}

/**
 * Compares our tokens of a card with D1 `getCardInfo` and repairs drift (source RECONCILIATION, history action
 * RECONCILE) and refreshes each token's device, then settles the card's operations still SUBMITTED against the same view.
 *
 * D1 unreachable → UNAVAILABLE before anything is written. Each correction is written on the token version read
 * before D1 was asked: a callback that lands meanwhile wins and the correction is skipped — D1's list may predate
 * it, and the next reconciliation looks again. Operations are saved on their version too.
 *
 * (primary adapters) reconcile route, scheduled sweep → this use case → D1 HTTP, DynamoDB
 */
export async function reconcileCard(deps: ReconcileDeps, issuerCardRefId: string): Promise<ReconcileResult> {
  const reconciliationId = (deps.newId ?? randomUUID)();
  // Our view first, strongly consistent per token (the listing reads each token consistently): every correction is
  // written on the version read *before* D1 answered, so a callback that lands while getCardInfo is in flight makes
  // that correction fail — D1's list may predate the callback — instead of being undone by it.
  const ours = (await allCardTokens(deps.tokens, issuerCardRefId)).filter((t) => t.issuerCardRefId === issuerCardRefId);
  const versions = new Map(ours.map((t) => [t.virtualCardId, t]));

  const askedAt = deps.now();
  const answer = await deps.d1.getCardInfo({ issuerCardRefId, correlationId: reconciliationId });
  if (answer.kind === 'unavailable') throw new DomainError('UNAVAILABLE', 'D1 getCardInfo is unavailable');
  if (answer.kind === 'rejected') throw new DomainError('UPSTREAM_ERROR', `D1 getCardInfo failed (HTTP ${answer.status})`);
  const now = deps.now();

  const corrected: ReconcileResult['corrected'] = [];
  const corrections = planCorrections(ours, answer.virtualCards);
  for (const correction of corrections) {
    const current = versions.get(correction.virtualCardId) ?? null;
    const { token, event } = applyCorrection(current, issuerCardRefId, correction, reconciliationId, now, askedAt);
    const result = await deps.tokens.recordChange({
      dedupeKey: createHash('sha256').update(`RECONCILE|${reconciliationId}|${correction.virtualCardId}`).digest('base64url'),
      virtualCardId: correction.virtualCardId,
      expectedVersion: current?.version ?? null,
      token,
      event,
    });
    if (result === 'RECORDED') corrected.push({ virtualCardId: correction.virtualCardId, from: correction.from, to: correction.to });
  }
  // The device D1 describes (manufacturer, model, name only), on tokens whose state needed no correction. On the
  // version read before D1 was asked, as the corrections: a callback meanwhile wins, the next reconciliation retries.
  for (const { token, device } of planDeviceUpdates(ours, answer.virtualCards, corrections)) {
    await deps.tokens.recordDevice({ virtualCardId: token.virtualCardId, expectedVersion: token.version, device });
  }

  const settledOperations: string[] = [];
  for (const operation of await deps.operations.listOpen({ issuerCardRefId })) {
    const settled = settleOperation(operation, answer.virtualCards, now, deps.reconcileAfterMs);
    if (settled && (await deps.operations.save(settled, operation)) === 'SAVED' && settled.status !== operation.status) {
      settledOperations.push(operation.operationId);
    }
  }
  return { issuerCardRefId, corrected, settledOperations };
}

/** A card the sweep could not reconcile: which card, the overdue operations that put it in the sweep, and why. */
export interface SweepFailure {
  issuerCardRefId: string;
  operationIds: string[];
  error: unknown;
}

/**
 * The scheduled sweep: cards with an operation still open after `reconcileAfterMs` are reconciled. Cheap when
 * nothing is pending — one Query on the sparse open-operations index, no scan. One card failing does not stop
 * the others; it is reported in `failed` (and counted) so the caller can say which card and why, and it stays
 * overdue for the next sweep.
 */
export async function sweepOverdueOperations(
  deps: ReconcileDeps,
): Promise<{ cards: number; failures: number; results: ReconcileResult[]; failed: SweepFailure[] }> {
  const cutoff = new Date(deps.now().getTime() - deps.reconcileAfterMs).toISOString();
  const overdue = await deps.operations.listOpen({ createdBefore: cutoff });
  const operationsByCard = new Map<string, string[]>();
  for (const op of overdue.filter((o) => o.status === 'SUBMITTED')) {
    operationsByCard.set(op.issuerCardRefId, [...(operationsByCard.get(op.issuerCardRefId) ?? []), op.operationId]);
  }
  const results: ReconcileResult[] = [];
  const failed: SweepFailure[] = [];
  for (const [card, operationIds] of operationsByCard) {
    try {
      results.push(await reconcileCard(deps, card));
    } catch (error) {
      failed.push({ issuerCardRefId: card, operationIds, error });
    }
  }
  return { cards: operationsByCard.size, failures: failed.length, results, failed };
}
