import { defineSpec } from '../spec';

/** The reconcile route and the scheduled sweep are two Lambdas with one wiring (lambdas/composition/reconciliation.ts). */
export const RECONCILIATION_ENV = [
  'TABLE_NAME',
  'D1_ISSUER_BASE_URL',
  'ISSUER_ID',
  'D1_TIMEOUT_MS',
  'RECONCILE_AFTER_MS',
  'HISTORY_RETENTION_DAYS',
  'D1_CLIENT_CERT',
  'D1_CLIENT_KEY',
] as const;

export const spec = defineSpec({
  description: 'Reconciles the cards whose operations are still SUBMITTED after RECONCILE_AFTER_MS',
  env: RECONCILIATION_ENV,
  table: 'readwrite',
  sendsTo: [],
  // Cheap when idle (one Query on the sparse open-operations index); RECONCILE_AFTER_MS decides what is overdue.
  schedule: { rateMinutes: 5 },
});
