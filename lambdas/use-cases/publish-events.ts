import { eventsOf, wants, type CommittedChange, type ServiceEvent } from '../domain/events';
import type { WebhookDelivery } from '../domain/messages';
import type { EventBus, EventLog, SubscriptionDirectory, WebhookDeliveryQueue } from '../ports/events';

export interface PublishDeps {
  log: EventLog;
  /** null where there is no bus (npm start). */
  bus: EventBus | null;
  subscriptions: SubscriptionDirectory;
  deliveries: WebhookDeliveryQueue;
  now: () => Date;
}

export interface Publication {
  events: ServiceEvent[];
  /** Events this call added to the log (the others were there already: a retry or a redelivery). */
  appended: number;
  deliveries: number;
}

/**
 * Publishes the events of one committed change: the log first (exactly once per event id), then the bus and one
 * webhook delivery per subscription that wants it. Every step runs again when the change is handed over again,
 * even if the log already holds its events: a crash between logging and fanning out must not lose the fan-out,
 * and the bus and webhooks are at-least-once with the event id to dedupe by.
 */
export async function publishChange(deps: PublishDeps, change: CommittedChange): Promise<Publication> {
  const events = eventsOf(change);
  if (events.length === 0) return { events, appended: 0, deliveries: 0 };
  let appended = 0;
  for (const event of events) if ((await deps.log.append(event)) === 'APPENDED') appended++;
  if (deps.bus) await deps.bus.put(events);
  // Read per change, consistently: a subscription created before the change committed is always served.
  const subscriptions = await deps.subscriptions.list();
  const firstAttemptAt = deps.now().toISOString();
  const deliveries: WebhookDelivery[] = events.flatMap((event) =>
    subscriptions.filter((s) => wants(s.eventTypes, event.type)).map((s) => ({ subscriptionId: s.subscriptionId, event, attempt: 1, firstAttemptAt })),
  );
  if (deliveries.length > 0) await deps.deliveries.enqueue(deliveries);
  return { events, appended, deliveries: deliveries.length };
}
