import { defineSpec } from '../spec';

export const spec = defineSpec({
  description: 'Applies queued network-token updates: never twice, never over a newer one',
  env: ['TABLE_NAME'],
  table: 'readwrite',
  sendsTo: [],
  consumes: { queue: 'tokenUpdates', batchSize: 10, maxConcurrency: 10 },
});
