import { reconciliationDeps, recordReconciliation } from '../composition/reconciliation';
import { issuerCardRefIdPath } from '../domain/schemas';
import { httpRoute } from '../http/route';
import { reconcileCard } from '../use-cases/reconcile-card';

const deps = reconciliationDeps();

/** `POST /v1/cards/{issuerCardRefId}/reconcile` — repair drift against D1 now; 503 when D1 is unreachable. */
export const handler = httpRoute({ name: 'reconcileCard', path: issuerCardRefIdPath }, async ({ path }) => {
  const result = await reconcileCard(deps, path.issuerCardRefId);
  recordReconciliation(result, 'api');
  return { status: 200, body: result };
});
