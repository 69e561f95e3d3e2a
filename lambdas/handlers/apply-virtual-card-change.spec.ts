import { defineSpec } from '../spec';

export const spec = defineSpec({
  description: 'Applies queued callbacks: dedupe, ordering and history in one conditional write each',
  env: ['TABLE_NAME', 'HISTORY_RETENTION_DAYS'],
  table: 'readwrite',
  sendsTo: [],
  consumes: { queue: 'issuerCallbacks', batchSize: 10, maxConcurrency: 10 },
});
