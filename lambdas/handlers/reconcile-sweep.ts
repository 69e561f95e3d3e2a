import { reconciliationDeps, recordReconciliation } from '../composition/reconciliation';
import { defineHandler } from '../define-handler';
import { metrics, MetricUnit } from '../observability';
import { sweepOverdueOperations } from '../use-cases/reconcile-card';
import { spec } from './reconcile-sweep.spec';

/** Scheduled (EventBridge in AWS, a timer under `npm start`): reconcile cards whose operations are overdue. */
export const handler = defineHandler(spec, reconciliationDeps, async (deps) => {
  const outcome = await sweepOverdueOperations(deps);
  for (const result of outcome.results) recordReconciliation(result, 'sweep');
  if (outcome.failures > 0) metrics.addMetric('ReconciliationFailures', MetricUnit.Count, outcome.failures);
  return { cards: outcome.cards, failures: outcome.failures };
});
