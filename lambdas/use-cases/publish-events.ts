import { eventsOf, wants, type CommittedChange, type ServiceEvent } from '../domain/events';
import type { WebhookDelivery } from '../domain/messages';
import type { EventBus, EventLog, Subscription, SubscriptionDirectory, WebhookDeliveryQueue } from '../ports/events';

export interface PublishDeps {
  log: EventLog;
  /** null where there is no bus (npm start). */
  bus: EventBus | null;
  subscriptions: SubscriptionSnapshots;
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
 * The subscriptions a change is fanned out to, read again only when the last read may predate the change. A list read after a change
 * was committed holds every subscription created before it (the read is consistent), so it may serve every change
 * committed before that read began: `commitUpperBoundMs` is a time the change is known to have committed by. A
 * subscription deleted since is dropped by the delivery consumer; one created after the commit never had a claim.
 */
export class SubscriptionSnapshots {
  private snapshot: { readStartedAt: number; list: Promise<Subscription[]> } | null = null;

  constructor(
    private readonly directory: SubscriptionDirectory,
    private readonly now: () => number = Date.now,
    /** Re-read at least this often, so deletions stop costing deliveries soon. */
    private readonly maxAgeMs = 10_000,
  ) {}

  async for(commitUpperBoundMs: number | null): Promise<Subscription[]> {
    const current = this.snapshot;
    const now = this.now();
    if (current && commitUpperBoundMs !== null && commitUpperBoundMs < current.readStartedAt && now - current.readStartedAt < this.maxAgeMs) {
      return current.list;
    }
    const list = this.directory.list();
    this.snapshot = { readStartedAt: now, list };
    // A failed read is not kept: the next change reads again.
    list.catch(() => {
      if (this.snapshot?.list === list) this.snapshot = null;
    });
    return list;
  }
}

/**
 * Publishes the events of one committed change: the log first (exactly once per event id), then the bus and one
 * webhook delivery per subscription that wants it. Every step runs again when the change is handed over again,
 * even if the log already holds its events: a crash between logging and fanning out must not lose the fan-out,
 * and the bus and webhooks are at-least-once with the event id to dedupe by.
 */
export async function publishChange(deps: PublishDeps, change: CommittedChange, commitUpperBoundMs: number | null = null): Promise<Publication> {
  const events = eventsOf(change);
  if (events.length === 0) return { events, appended: 0, deliveries: 0 };
  let appended = 0;
  for (const event of events) if ((await deps.log.append(event)) === 'APPENDED') appended++;
  if (deps.bus) await deps.bus.put(events);
  // A subscription created before the change committed is always served (see SubscriptionSnapshots).
  const subscriptions = await deps.subscriptions.for(commitUpperBoundMs);
  const firstAttemptAt = deps.now().toISOString();
  const deliveries: WebhookDelivery[] = events.flatMap((event) =>
    subscriptions.filter((s) => wants(s.eventTypes, event.type)).map((s) => ({ subscriptionId: s.subscriptionId, event, attempt: 1, firstAttemptAt })),
  );
  if (deliveries.length > 0) await deps.deliveries.enqueue(deliveries);
  return { events, appended, deliveries: deliveries.length };
}
