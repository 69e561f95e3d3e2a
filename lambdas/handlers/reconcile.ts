import { reconciliationDeps, recordReconciliation } from '../composition/reconciliation';
import { defineHandler } from '../http/define-routes';
import { reconcileCard } from '../use-cases/reconcile-card';
import { spec } from './reconcile.spec';
import { secretsManagerFetcher } from '../config/secrets-manager';

/** `POST /v1/cards/{issuerCardRefId}/reconcile` — repair drift against D1 now; 503 when D1 is unreachable. */
export const handler = defineHandler(
  spec,
  reconciliationDeps,
  {
    reconcileCard: {
      handle: async ({ path }, deps) => {
        const result = await reconcileCard(deps, path.issuerCardRefId);
        recordReconciliation(result, 'api');
        return { status: 200, body: result };
      },
    },
  },
  { fetchSecret: secretsManagerFetcher() },
);
