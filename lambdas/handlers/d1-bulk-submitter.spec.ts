import { defineSpec } from '../spec';

export const spec = defineSpec({
  description: "The bulk lane toward D1: the bulk jobs' updateCardState attempts (d1-bulk-requests), retries kept in the lane",
  env: [
    'TABLE_NAME',
    'D1_BULK_REQUESTS_QUEUE_URL',
    'D1_ISSUER_BASE_URL',
    'ISSUER_ID',
    'D1_TIMEOUT_MS',
    'D1_RETRY_BASE_DELAY_MS',
    'D1_MAX_ATTEMPTS',
    'D1_CLIENT_CERT',
    'D1_CLIENT_KEY',
  ],
  table: 'readwrite',
  sendsTo: ['d1BulkRequests'],
  consumes: { queue: 'd1BulkRequests', batchSize: 5, maxConcurrency: 2 },
});
