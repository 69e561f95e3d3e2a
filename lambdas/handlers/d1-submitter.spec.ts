import { defineSpec } from '../spec';

/** The two D1 submitters (interactive and bulk lanes) share one wiring (lambdas/composition/d1-submission.ts). */
export const SUBMITTER_ENV = [
  'TABLE_NAME',
  'D1_ISSUER_BASE_URL',
  'ISSUER_ID',
  'D1_TIMEOUT_MS',
  'D1_RETRY_BASE_DELAY_MS',
  'D1_MAX_ATTEMPTS',
  'D1_MAX_TPS',
  'D1_CLIENT_CERT',
  'D1_CLIENT_KEY',
] as const;

export const spec = defineSpec({
  description:
    'One updateCardState attempt per d1-requests message (the interactive lane of the D1 pace); retries are delayed messages with the same x-correlation-id',
  env: [...SUBMITTER_ENV, 'D1_REQUESTS_QUEUE_URL'],
  table: 'readwrite',
  sendsTo: ['d1Requests'],
  // At most 5 × 5 calls in flight toward D1, however many operations are requested at once; the pace caps the rate.
  consumes: { queue: 'd1Requests', batchSize: 5, maxConcurrency: 5 },
});
