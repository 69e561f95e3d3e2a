import { reconciliationDeps, recordReconciliation } from '../composition/reconciliation';
import { withSecrets } from '../config/secrets';
import { issuerCardRefIdPath } from '../domain/schemas';
import { httpRoute } from '../http/route';
import { reconcileCard } from '../use-cases/reconcile-card';

/** `POST /v1/cards/{issuerCardRefId}/reconcile` — repair drift against D1 now; 503 when D1 is unreachable. */
export const handler = withSecrets(['D1_CLIENT_CERT', 'D1_CLIENT_KEY'], () => {
  const deps = reconciliationDeps();
  return httpRoute({ name: 'reconcileCard', path: issuerCardRefIdPath }, async ({ path }) => {
    const result = await reconcileCard(deps, path.issuerCardRefId);
    recordReconciliation(result, 'api');
    return { status: 200, body: result };
  });
});
