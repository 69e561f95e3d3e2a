import type { WebhookDelivery } from '../domain/messages';
import { afterFailure, hop, webhookRequest, type RetryPolicy } from '../domain/webhooks';
import type { WebhookDeliveryQueue } from '../ports/events';
import type { SecretVault, SubscriptionStore, WebhookSender } from '../ports/subscriptions';

export interface DeliverWebhookDeps {
  subscriptions: Pick<SubscriptionStore, 'getSigningSecrets'>;
  vault: Pick<SecretVault, 'open'>;
  sender: WebhookSender;
  /** webhook-deliveries: the next attempts and the hops of long waits. */
  queue: WebhookDeliveryQueue;
  /** Its DLQ: deliveries whose retry budget ran out (alarmed; `npm run dlq` redrives them). */
  parked: WebhookDeliveryQueue;
  policy: RetryPolicy;
  random: () => number;
  now: () => Date;
}

interface Attempted {
  attempt: number;
  status: number | null;
}

export type DeliveryResult =
  | ({ kind: 'delivered' } & Attempted)
  | ({ kind: 'retried'; error: string; delaySeconds: number } & Attempted)
  | ({ kind: 'parked'; error: string } & Attempted)
  /** The subscription is gone: its pending deliveries end here. */
  | { kind: 'dropped'; attempt: number }
  /** A long backoff not over yet: passed on as one more delayed hop, nothing sent. */
  | { kind: 'waiting'; attempt: number; notBefore: string };

/** A parked delivery sent back by a redrive: a fresh budget, from attempt 1, now. */
function restartIfRedriven(delivery: WebhookDelivery, now: Date): { delivery: WebhookDelivery; redriven: boolean } {
  if (delivery.parkedAt === undefined) return { delivery, redriven: false };
  const { parkedAt: _parkedAt, notBefore: _notBefore, ...rest } = delivery;
  return { delivery: { ...rest, attempt: 1, firstAttemptAt: now.toISOString() }, redriven: true };
}

/**
 * One attempt to deliver one event to one subscription (DESIGN §8). 2xx = delivered. Anything else — a status, a
 * timeout, a refused connection or address — queues the next attempt as a new message, delayed by the backoff,
 * with the same event (so the same webhook-id); once the budget (24 h) since the first attempt is spent, the next
 * failure parks the delivery in the DLQ instead. Only a crash of this code (a throw) leaves the message to SQS's
 * own redelivery.
 */
export async function deliverWebhook(deps: DeliverWebhookDeps, message: WebhookDelivery): Promise<DeliveryResult & { redriven: boolean }> {
  const { delivery, redriven } = restartIfRedriven(message, deps.now());
  const result = await attempt(deps, delivery);
  return { ...result, redriven };
}

async function attempt(deps: DeliverWebhookDeps, delivery: WebhookDelivery): Promise<DeliveryResult> {
  const now = deps.now();
  if (delivery.notBefore !== undefined && Date.parse(delivery.notBefore) > now.getTime()) {
    const { delaySeconds } = hop((Date.parse(delivery.notBefore) - now.getTime()) / 1000, now);
    await deps.queue.enqueue([delivery], delaySeconds);
    return { kind: 'waiting', attempt: delivery.attempt, notBefore: delivery.notBefore };
  }
  const found = await deps.subscriptions.getSigningSecrets(delivery.subscriptionId, now);
  if (!found) return { kind: 'dropped', attempt: delivery.attempt };
  const secrets = await Promise.all(found.sealed.map((sealed) => deps.vault.open(sealed, delivery.subscriptionId)));
  const outcome = await deps.sender.send(found.subscription.url, webhookRequest(delivery.event, secrets, now));
  if (outcome.delivered) return { kind: 'delivered', attempt: delivery.attempt, status: outcome.status };

  const failedAt = deps.now();
  const { notBefore: _notBefore, ...base } = delivery;
  const decision = afterFailure(delivery.attempt, delivery.firstAttemptAt, failedAt, deps.random(), deps.policy);
  if (decision.kind === 'park') {
    await deps.parked.enqueue([{ ...base, parkedAt: failedAt.toISOString(), lastError: outcome.error }]);
    return { kind: 'parked', attempt: delivery.attempt, status: outcome.status, error: outcome.error };
  }
  const next = hop(decision.delaySeconds, failedAt);
  await deps.queue.enqueue(
    [{ ...base, attempt: delivery.attempt + 1, lastError: outcome.error, ...(next.notBefore !== undefined ? { notBefore: next.notBefore } : {}) }],
    next.delaySeconds,
  );
  return { kind: 'retried', attempt: delivery.attempt, status: outcome.status, error: outcome.error, delaySeconds: decision.delaySeconds };
}
