import { defineSpec } from '../spec';

export const spec = defineSpec({
  description: 'One updateCardState attempt per d1-requests message; retries are delayed messages with the same x-correlation-id',
  env: [
    'TABLE_NAME',
    'D1_REQUESTS_QUEUE_URL',
    'D1_ISSUER_BASE_URL',
    'ISSUER_ID',
    'D1_TIMEOUT_MS',
    'D1_RETRY_BASE_DELAY_MS',
    'D1_MAX_ATTEMPTS',
    'D1_CLIENT_CERT',
    'D1_CLIENT_KEY',
  ],
  table: 'readwrite',
  sendsTo: ['d1Requests'],
  // At most 5 × 5 calls in flight toward D1, however many operations are requested at once.
  consumes: { queue: 'd1Requests', batchSize: 5, maxConcurrency: 5 },
});
