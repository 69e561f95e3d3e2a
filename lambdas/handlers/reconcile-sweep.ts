import type { Context } from 'aws-lambda';
import { reconciliationDeps, recordReconciliation } from '../composition/reconciliation';
import { withSecrets } from '../config/secrets';
import { logger, metrics, MetricUnit } from '../observability';
import { sweepOverdueOperations } from '../use-cases/reconcile-card';

/** Scheduled (EventBridge in AWS, a timer under `npm start`): reconcile cards whose operations are overdue. */
export const handler = withSecrets(['D1_CLIENT_CERT', 'D1_CLIENT_KEY'], () => {
  const deps = reconciliationDeps();
  return async (_event: unknown, context?: Context) => {
    if (context) logger.addContext(context);
    try {
      const outcome = await sweepOverdueOperations(deps);
      for (const result of outcome.results) recordReconciliation(result, 'sweep');
      if (outcome.failures > 0) metrics.addMetric('ReconciliationFailures', MetricUnit.Count, outcome.failures);
      return { cards: outcome.cards, failures: outcome.failures };
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
});
