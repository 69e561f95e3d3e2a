import { defineSpec } from '../spec';

export const spec = defineSpec({
  description: 'One webhook delivery attempt per webhook-deliveries message; retries are delayed messages, parked in the DLQ after 24 h',
  // Secrets are opened with the same keys as token PANs: the KMS key in AWS, DATA_KEY locally (never both).
  env: ['TABLE_NAME', 'WEBHOOK_DELIVERIES_QUEUE_URL', 'WEBHOOK_DELIVERIES_DLQ_URL', 'WEBHOOK_ALLOW_LOOPBACK', 'DATA_KEY', 'DATA_KEY_KMS_KEY_ARN'],
  table: 'read',
  sendsTo: ['webhookDeliveries'],
  // Each delivery is its own message and a batch runs in parallel: a slow endpoint holds one record, not the others.
  consumes: { queue: 'webhookDeliveries', batchSize: 10, maxConcurrency: 20 },
});
