import type { Context } from 'aws-lambda';
import { reconciliationDeps, recordReconciliation, recordSweepFailure } from '../composition/reconciliation';
import { withSecrets } from '../config/secrets';
import { logger, metrics, MetricUnit } from '../observability';
import { sweepOverdueOperations, type ReconcileDeps } from '../use-cases/reconcile-card';

/** The sweep on the given ports (the tests pass fakes); `handler` wires the real ones. */
export function reconcileSweepHandler(deps: ReconcileDeps) {
  return async (_event: unknown, context?: Context): Promise<{ cards: number; failures: number }> => {
    if (context) logger.addContext(context);
    try {
      const outcome = await sweepOverdueOperations(deps);
      for (const result of outcome.results) recordReconciliation(result, 'sweep');
      for (const failure of outcome.failed) recordSweepFailure(failure);
      if (outcome.failures > 0) metrics.addMetric('ReconciliationFailures', MetricUnit.Count, outcome.failures);
      return { cards: outcome.cards, failures: outcome.failures };
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** Scheduled (EventBridge in AWS, a timer under `npm start`): reconcile cards whose operations are overdue. */
export const handler = withSecrets(['D1_CLIENT_CERT', 'D1_CLIENT_KEY'], () => reconcileSweepHandler(reconciliationDeps()));
