import { reconciliationDeps, recordReconciliation, recordSweepFailure } from '../composition/reconciliation';
import { defineHandler } from '../define-handler';
import { metrics, MetricUnit } from '../observability';
import { sweepOverdueOperations, type ReconcileDeps } from '../use-cases/reconcile-card';
import { spec } from './reconcile-sweep.spec';

/** One sweep on the given ports (the tests pass fakes): each failure logged with what identifies it, and counted. */
export async function sweep(deps: ReconcileDeps): Promise<{ cards: number; failures: number }> {
  const outcome = await sweepOverdueOperations(deps);
  for (const result of outcome.results) recordReconciliation(result, 'sweep');
  for (const failure of outcome.failed) recordSweepFailure(failure);
  if (outcome.failures > 0) metrics.addMetric('ReconciliationFailures', MetricUnit.Count, outcome.failures);
  return { cards: outcome.cards, failures: outcome.failures };
}

/** Scheduled (EventBridge in AWS, a timer under `npm start`): reconcile cards whose operations are overdue. */
export const handler = defineHandler(spec, reconciliationDeps, sweep);
