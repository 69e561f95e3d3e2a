import { defineSpec } from '../spec';

export const spec = defineSpec({
  description: "Publishes the events of every committed change (the table's stream): event log, EventBridge, webhook deliveries",
  env: ['TABLE_NAME', 'EVENT_RETENTION_DAYS', 'EVENT_BUS_NAME', 'WEBHOOK_DELIVERIES_QUEUE_URL'],
  table: 'readwrite',
  sendsTo: ['webhookDeliveries'],
  // Stream order is kept per item: a failing record stops its batch and is retried before anything after it.
  consumesTableStream: { batchSize: 100, retryAttempts: 20 },
});
