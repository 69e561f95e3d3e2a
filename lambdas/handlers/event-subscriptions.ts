import { DynamoDbEventLog } from '../adapters/dynamodb-event-log';
import { randomUUID } from 'node:crypto';
import { EnvelopeSecretVault } from '../adapters/credential-vault';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbSubscriptionStore } from '../adapters/dynamodb-subscription-store';
import { sqsClient, SqsWebhookDeliveryQueue } from '../adapters/sqs-queue';
import { WebhookUrlGuard } from '../adapters/webhook-http';
import { vaultKeyring } from '../composition/vault-keyring';
import { defineHandler } from '../http/define-routes';
import { validationFailed } from '../http/errors';
import { logger } from '../observability';
import { InvalidRequestField } from '../ports/subscriptions';
import { createSubscription, deleteSubscription, rotateSubscriptionSecret } from '../use-cases/event-subscriptions';
import { replayEvents } from '../use-cases/replay-events';
import { spec } from './event-subscriptions.spec';
import { traceClient } from '../tracing';

/** A field the use case refused after the schema passed (an SSRF-refused url, an unknown `after`): the §3 400. */
async function fieldChecked<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof InvalidRequestField) throw validationFailed([{ path: err.path, message: err.message }]);
    throw err;
  }
}

/** The back office's webhook subscriptions. Secrets appear in two answers only (create, rotate) and in no log. */
export const handler = defineHandler(
  spec,
  (env) => {
    const client = documentClient(traceClient);
    return {
      subscriptions: new DynamoDbSubscriptionStore(client, env.TABLE_NAME),
      vault: new EnvelopeSecretVault(vaultKeyring(env)),
      urls: new WebhookUrlGuard(env.WEBHOOK_ALLOW_LOOPBACK),
      events: new DynamoDbEventLog(client, { tableName: env.TABLE_NAME, retentionDays: env.EVENT_RETENTION_DAYS }),
      queue: new SqsWebhookDeliveryQueue(sqsClient(traceClient), env.WEBHOOK_DELIVERIES_QUEUE_URL),
      newId: () => `sub_${randomUUID().replaceAll('-', '')}`,
      now: () => new Date(),
    };
  },
  {
    createSubscription: {
      handle: async ({ body }, deps) => {
        const { subscription, secret } = await fieldChecked(() => createSubscription(deps, body));
        logger.info('webhook subscription created', { subscriptionId: subscription.subscriptionId, eventTypes: subscription.eventTypes });
        return { status: 201, body: { ...subscription, secret } };
      },
    },
    listSubscriptions: {
      handle: async (_request, deps) => ({ status: 200, body: { subscriptions: await deps.subscriptions.list() } }),
    },
    deleteSubscription: {
      handle: async ({ path }, deps) => {
        await deleteSubscription(deps, path.subscriptionId);
        logger.info('webhook subscription deleted', { subscriptionId: path.subscriptionId });
        return { status: 204 };
      },
    },
    replayEvents: {
      handle: async ({ path, body }, deps) => {
        const replayed = await fieldChecked(() => replayEvents(deps, path.subscriptionId, body));
        logger.info('events replayed to a webhook subscription', { subscriptionId: path.subscriptionId, after: body.after, since: body.since, replayed });
        return { status: 202, body: { replayed } };
      },
    },
    rotateSecret: {
      handle: async ({ path }, deps) => {
        const secret = await rotateSubscriptionSecret(deps, path.subscriptionId);
        logger.info('webhook secret rotated', { subscriptionId: path.subscriptionId });
        return { status: 200, body: { secret } };
      },
    },
  },
);
