import { defineSpec } from '../spec';

export const spec = defineSpec({
  description: 'Runs the bulk jobs (DESIGN §9): one tick per lcm-jobs message starts QUEUED cards at the pace D1 allows and closes finished jobs',
  env: ['TABLE_NAME', 'LCM_JOBS_QUEUE_URL', 'D1_BULK_REQUESTS_QUEUE_URL', 'D1_MAX_TPS'],
  table: 'readwrite',
  sendsTo: ['lcmJobs', 'd1BulkRequests'],
  // Each job paces itself; two consumers are plenty for the ticks of every running job.
  consumes: { queue: 'lcmJobs', batchSize: 5, maxConcurrency: 2 },
});
