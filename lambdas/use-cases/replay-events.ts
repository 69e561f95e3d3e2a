import { wants } from '../domain/events';
import { notFound } from '../domain/errors';
import { UnknownEventId, type EventLog, type WebhookDeliveryQueue } from '../ports/events';
import { InvalidRequestField, type SubscriptionStore } from '../ports/subscriptions';

export interface ReplayDeps {
  subscriptions: Pick<SubscriptionStore, 'get'>;
  events: Pick<EventLog, 'list'>;
  queue: WebhookDeliveryQueue;
  now: () => Date;
}

export interface ReplayFrom {
  /** An event id: only the events logged after it. */
  after?: string | undefined;
  /** An instant: only the events logged at or after it. */
  since?: string | undefined;
}

const PAGE = 100;

/**
 * Re-sends, to one subscription only, the logged events after the given point that it wants (DESIGN §8): each one
 * a fresh delivery (attempt 1, a new 24 h budget) of the same event, same id, so a consumer that saw it dedupes.
 * Returns how many were queued.
 */
export async function replayEvents(deps: ReplayDeps, subscriptionId: string, from: ReplayFrom): Promise<number> {
  const subscription = await deps.subscriptions.get(subscriptionId);
  if (!subscription) throw notFound('subscription');
  const firstAttemptAt = deps.now().toISOString();
  let replayed = 0;
  let nextToken: string | undefined;
  do {
    let page;
    try {
      page = await deps.events.list({ after: from.after, since: from.since, limit: PAGE, nextToken });
    } catch (err) {
      if (err instanceof UnknownEventId) throw new InvalidRequestField('after', 'names no event in the log');
      throw err;
    }
    const wanted = page.items.filter((event) => wants(subscription.eventTypes, event.type));
    if (wanted.length > 0) await deps.queue.enqueue(wanted.map((event) => ({ subscriptionId, event, attempt: 1, firstAttemptAt })));
    replayed += wanted.length;
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined);
  return replayed;
}
