import type { SQSRecord } from 'aws-lambda';
import { EnvelopeSecretVault } from '../adapters/credential-vault';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbSubscriptionStore } from '../adapters/dynamodb-subscription-store';
import { sqsClient, SqsWebhookDeliveryQueue } from '../adapters/sqs-queue';
import { UndiciWebhookSender } from '../adapters/webhook-http';
import { vaultKeyring } from '../composition/vault-keyring';
import { defineHandler } from '../sqs/define-consumer';
import type { SpecEnv } from '../define-handler-core';
import { webhookDeliveryMessage } from '../domain/messages';
import { WEBHOOK_RETRY_POLICY } from '../domain/webhooks';
import { logger, metrics, MetricUnit } from '../observability';
import { deliverWebhook, type DeliverWebhookDeps } from '../use-cases/deliver-webhook';
import { spec } from './deliver-webhook.spec';
import { traceClient } from '../tracing';

export function compose(env: SpecEnv<typeof spec>): DeliverWebhookDeps {
  const sqs = sqsClient(traceClient);
  return {
    subscriptions: new DynamoDbSubscriptionStore(documentClient(traceClient), env.TABLE_NAME),
    vault: new EnvelopeSecretVault(vaultKeyring(env)),
    sender: new UndiciWebhookSender({ allowLoopback: env.WEBHOOK_ALLOW_LOOPBACK }),
    queue: new SqsWebhookDeliveryQueue(sqs, env.WEBHOOK_DELIVERIES_QUEUE_URL),
    parked: new SqsWebhookDeliveryQueue(sqs, env.WEBHOOK_DELIVERIES_DLQ_URL),
    policy: WEBHOOK_RETRY_POLICY,
    random: Math.random,
    now: () => new Date(),
  };
}

const METRIC = {
  delivered: 'WebhookDelivered',
  retried: 'WebhookRetried',
  parked: 'WebhookParked',
  dropped: 'WebhookDropped',
} as const;

/** One record: ids, attempt and outcome are logged; the event body and the secrets never are. */
export async function deliverRecord(record: SQSRecord, deps: DeliverWebhookDeps): Promise<void> {
  const message = webhookDeliveryMessage.parse(JSON.parse(record.body));
  const result = await deliverWebhook(deps, message);
  const keys = { subscriptionId: message.subscriptionId, eventId: message.event.id, eventType: message.event.type, attempt: result.attempt };
  if (result.redriven) logger.info('parked webhook delivery redriven: fresh retry budget', keys);
  switch (result.kind) {
    case 'waiting':
      logger.debug('webhook retry still waiting', { ...keys, notBefore: result.notBefore });
      return;
    case 'dropped':
      logger.info('webhook delivery dropped: subscription deleted', keys);
      break;
    case 'delivered':
      logger.debug('webhook delivered', { ...keys, status: result.status });
      break;
    case 'retried':
      logger.info('webhook attempt failed: retry queued', { ...keys, status: result.status, error: result.error, delaySeconds: result.delaySeconds });
      break;
    case 'parked':
      logger.warn('webhook delivery parked in the DLQ: retry budget spent', { ...keys, status: result.status, error: result.error });
      break;
  }
  metrics.addMetric(METRIC[result.kind], MetricUnit.Count, 1);
}

/** SQS consumer of webhook-deliveries: one attempt per message, the batch in parallel. */
export const handler = defineHandler(spec, compose, deliverRecord);
