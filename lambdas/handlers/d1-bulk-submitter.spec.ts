import { defineSpec } from '../spec';
import { SUBMITTER_ENV } from './d1-submitter.spec';

export const spec = defineSpec({
  description: 'The d1-submitter for bulk-job operations (d1-bulk-requests): the bulk lane of the D1 pace, its retries on its own queue',
  env: [...SUBMITTER_ENV, 'D1_BULK_REQUESTS_QUEUE_URL'],
  table: 'readwrite',
  sendsTo: ['d1BulkRequests'],
  // Records wait on their slots (each at most ~1.2 s): the concurrency grows with D1_MAX_TPS (10 is the floor).
  consumes: { queue: 'd1BulkRequests', batchSize: 10, maxConcurrency: 10, pacedByD1: true },
});
