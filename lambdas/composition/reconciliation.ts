import { D1IssuerClient } from '../adapters/d1-issuer-client';
import { d1ClientTls, d1Fetch } from '../adapters/d1-transport';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbOperationStore } from '../adapters/dynamodb-operation-store';
import { DynamoDbTokenStore } from '../adapters/dynamodb-token-store';
import type { Env } from '../config/env';
import type { RECONCILIATION_ENV } from '../handlers/reconcile-sweep.spec';
import { logger, metrics, MetricUnit } from '../observability';
import { sweepOverdueOperations, type ReconcileDeps, type ReconcileResult, type SweepFailure } from '../use-cases/reconcile-card';
import { traceClient } from '../tracing';

/** Shared by the reconcile route and the scheduled sweep: two Lambdas, one wiring (their specs share RECONCILIATION_ENV). */
export function reconciliationDeps(env: Pick<Env, (typeof RECONCILIATION_ENV)[number]>): ReconcileDeps {
  const client = documentClient(traceClient);
  return {
    tokens: new DynamoDbTokenStore(client, { tableName: env.TABLE_NAME, historyRetentionDays: env.HISTORY_RETENTION_DAYS }),
    operations: new DynamoDbOperationStore(client, env.TABLE_NAME),
    d1: new D1IssuerClient({ baseUrl: env.D1_ISSUER_BASE_URL, issuerId: env.ISSUER_ID, timeoutMs: env.D1_TIMEOUT_MS, fetch: d1Fetch(d1ClientTls(env)) }),
    reconcileAfterMs: env.RECONCILE_AFTER_MS,
    now: () => new Date(),
  };
}

export function recordReconciliation(result: ReconcileResult, trigger: 'api' | 'sweep'): void {
  if (result.corrected.length > 0) metrics.addMetric('ReconciliationCorrections', MetricUnit.Count, result.corrected.length);
  if (result.settledOperations.length > 0) metrics.addMetric('OperationsSettledByReconciliation', MetricUnit.Count, result.settledOperations.length);
  logger.info('card reconciled', {
    trigger,
    issuerCardRefId: result.issuerCardRefId,
    corrected: result.corrected,
    settledOperations: result.settledOperations,
  });
}

/**
 * What the ReconciliationFailures alarm points at: the card, its overdue operations and the error's name and message.
 * Only those two of the error: its other attributes (an SDK error's request/response, say) are not ours to log.
 */
export function recordSweepFailure(failure: SweepFailure): void {
  const { name, message } = failure.error instanceof Error ? failure.error : { name: typeof failure.error, message: String(failure.error) };
  logger.error('card not reconciled', {
    trigger: 'sweep',
    issuerCardRefId: failure.issuerCardRefId,
    operationIds: failure.operationIds,
    error: { name, message },
  });
}

/** One sweep on the given ports (the tests pass fakes): each failure logged with what identifies it, and counted. */
export async function sweepAndRecord(deps: ReconcileDeps): Promise<{ cards: number; failures: number }> {
  const outcome = await sweepOverdueOperations(deps);
  for (const result of outcome.results) recordReconciliation(result, 'sweep');
  for (const failure of outcome.failed) recordSweepFailure(failure);
  if (outcome.failures > 0) metrics.addMetric('ReconciliationFailures', MetricUnit.Count, outcome.failures);
  return { cards: outcome.cards, failures: outcome.failures };
}
