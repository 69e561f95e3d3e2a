import type { DynamoDBRecord } from 'aws-lambda';
import { committedChangeOf } from '../adapters/dynamodb-change-stream';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbEventLog } from '../adapters/dynamodb-event-log';
import { DynamoDbSubscriptionStore } from '../adapters/dynamodb-subscription-store';
import { eventBridgeClient, EventBridgeBus } from '../adapters/eventbridge-bus';
import { SqsWebhookDeliveryQueue, sqsClient } from '../adapters/sqs-queue';
import { defineHandler } from '../streams/define-stream-consumer';
import type { SpecEnv } from '../define-handler-core';
import { logger, metrics, MetricUnit } from '../observability';
import { publishChange, SubscriptionSnapshots, type PublishDeps } from '../use-cases/publish-events';
import { spec } from './publish-events.spec';
import { traceClient } from '../tracing';

function compose(env: SpecEnv<typeof spec>): PublishDeps {
  const client = documentClient(traceClient);
  return {
    log: new DynamoDbEventLog(client, { tableName: env.TABLE_NAME, retentionDays: env.EVENT_RETENTION_DAYS }),
    bus: env.EVENT_BUS_NAME ? new EventBridgeBus(eventBridgeClient(traceClient), env.EVENT_BUS_NAME) : null,
    subscriptions: new SubscriptionSnapshots(new DynamoDbSubscriptionStore(client, env.TABLE_NAME)),
    deliveries: new SqsWebhookDeliveryQueue(sqsClient(traceClient), env.WEBHOOK_DELIVERIES_QUEUE_URL),
    now: () => new Date(),
  };
}

async function publishRecord(record: DynamoDBRecord, deps: PublishDeps): Promise<void> {
  const change = committedChangeOf(record);
  if (!change) return;
  // Lambda gives the commit time rounded down to the second: the change committed before the next second began.
  const created = record.dynamodb?.ApproximateCreationDateTime;
  const publication = await publishChange(deps, change, created === undefined ? null : (Math.floor(created) + 1) * 1000);
  if (publication.events.length === 0) return;
  metrics.addMetric('EventsPublished', MetricUnit.Count, publication.appended);
  metrics.addMetric('WebhookDeliveriesEnqueued', MetricUnit.Count, publication.deliveries);
  // Ids and types only: an event's data is the customer's business, and the log line must stay free of it.
  // DEBUG: one line per committed change; the event log is the record, EventsPublished and IteratorAge the figures.
  logger.debug('events published', {
    events: publication.events.map((e) => ({ id: e.id, type: e.type })),
    appended: publication.appended,
    deliveries: publication.deliveries,
    // Stream record creation → now: the lag the dashboard shows as IteratorAge in AWS.
    lagMs: created === undefined ? undefined : Date.now() - created * 1000,
  });
}

/** The table's stream consumer: every committed change's events, logged once, put on the bus, fanned out to webhooks. */
export const handler = defineHandler(spec, compose, publishRecord);
