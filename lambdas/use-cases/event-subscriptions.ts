import { EVENT_TYPES, type EventType } from '../domain/events';
import { notFound } from '../domain/errors';
import { newWebhookSecret, ROTATION_OVERLAP_MS } from '../domain/webhooks';
import type { Subscription } from '../ports/events';
import { InvalidRequestField, type SecretVault, type SubscriptionStore, type WebhookUrlPolicy } from '../ports/subscriptions';

/** The back office's webhook subscriptions (DESIGN §8): create, delete, rotate the secret. Listing is the store's. */
export interface SubscriptionDeps {
  subscriptions: SubscriptionStore;
  vault: SecretVault;
  urls: WebhookUrlPolicy;
  newId: () => string;
  now: () => Date;
}

export interface SubscriptionRequest {
  url: string;
  eventTypes?: EventType[] | undefined;
  description?: string | undefined;
}

/** No types named = every type, stored and answered as the full list (in EVENT_TYPES order, each once). */
export const subscribedTypes = (requested: readonly EventType[] | undefined): EventType[] =>
  requested && requested.length > 0 ? EVENT_TYPES.filter((type) => requested.includes(type)) : [...EVENT_TYPES];

/** Creates a subscription with a new secret, shown to the caller this once; only its sealed form is stored. */
export async function createSubscription(deps: SubscriptionDeps, request: SubscriptionRequest): Promise<{ subscription: Subscription; secret: string }> {
  const problem = await deps.urls.check(request.url);
  if (problem !== null) throw new InvalidRequestField('url', problem);
  const subscription: Subscription = {
    subscriptionId: deps.newId(),
    url: request.url,
    eventTypes: subscribedTypes(request.eventTypes),
    description: request.description ?? null,
    createdAt: deps.now().toISOString(),
  };
  const secret = newWebhookSecret();
  await deps.subscriptions.create({ ...subscription, sealedSecret: await deps.vault.seal(secret, subscription.subscriptionId) });
  return { subscription, secret };
}

export async function deleteSubscription(deps: Pick<SubscriptionDeps, 'subscriptions'>, subscriptionId: string): Promise<void> {
  if (!(await deps.subscriptions.delete(subscriptionId))) throw notFound('subscription');
}

/** A new current secret; the old one keeps signing beside it for ROTATION_OVERLAP_MS (24 h), then stops. */
export async function rotateSubscriptionSecret(deps: Pick<SubscriptionDeps, 'subscriptions' | 'vault' | 'now'>, subscriptionId: string): Promise<string> {
  const secret = newWebhookSecret();
  const sealed = await deps.vault.seal(secret, subscriptionId);
  const previousExpiresAt = new Date(deps.now().getTime() + ROTATION_OVERLAP_MS).toISOString();
  if (!(await deps.subscriptions.rotateSecret(subscriptionId, sealed, previousExpiresAt))) throw notFound('subscription');
  return secret;
}
