import * as z from 'zod';
import { TOKEN_STATES } from '../domain/token';
import { issuerCardRefIdPath } from '../http/params';
import { defineSpec } from '../spec';
import { RECONCILIATION_ENV } from './reconcile-sweep.spec';

export const reconcileResultSchema = z
  .object({
    issuerCardRefId: z.string(),
    corrected: z.array(z.object({ virtualCardId: z.string(), from: z.enum(TOKEN_STATES).nullable(), to: z.enum(TOKEN_STATES) })),
    settledOperations: z.array(z.string()),
  })
  .meta({ id: 'ReconcileResult' });

export const spec = defineSpec({
  description: 'Repairs drift against D1 getCardInfo now and settles the card’s waiting operations',
  env: RECONCILIATION_ENV,
  table: 'readwrite',
  sendsTo: [],
  routes: {
    reconcileCard: {
      apis: ['backoffice'],
      method: 'POST',
      path: '/v1/cards/{issuerCardRefId}/reconcile',
      auth: 'iam',
      summary: "Repair drift against D1 getCardInfo and settle the card's waiting operations",
      request: { path: issuerCardRefIdPath },
      responses: { 200: reconcileResultSchema },
      errors: [502, 503],
    },
  },
});
