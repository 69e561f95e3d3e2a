import type { EventType, ServiceEvent } from '../domain/events';
import type { WebhookDelivery } from '../domain/messages';
import type { Page } from './token-store';

/** Where `GET /v1/events` is read from and replays start: every event once, in the order it was appended. */
export interface EventLog {
  /** Appends the event unless one with its id is there already (a stream retry, a replay): exactly once per id. */
  append(event: ServiceEvent): Promise<'APPENDED' | 'DUPLICATE'>;
  /** Oldest first. `after` (an event id) and `since` (an instant) say where to start; `type` filters. */
  list(query: EventQuery): Promise<Page<ServiceEvent>>;
}

export interface EventQuery {
  /** Only events appended after this one (an unknown id is UnknownEventId). */
  after?: string | undefined;
  /** Only events appended at or after this instant (ISO). */
  since?: string | undefined;
  type?: EventType | undefined;
  limit: number;
  nextToken?: string | undefined;
}

/** `after` names no event in the log (never one, or expired): the caller's mistake, a 400. */
export class UnknownEventId extends Error {
  constructor() {
    super('after names no event in the log');
    this.name = 'UnknownEventId';
  }
}

/** The stack's EventBridge bus in AWS (`source` token-lifecycle, `detail-type` = type); none locally. */
export interface EventBus {
  put(events: readonly ServiceEvent[]): Promise<void>;
}

/** A webhook subscription as the publisher and the delivery consumer see it (no secret). */
export interface Subscription {
  subscriptionId: string;
  url: string;
  /** Empty = every type. */
  eventTypes: EventType[];
  description: string | null;
  createdAt: string;
}

/** What the publisher needs to fan an event out: the subscriptions that exist now. */
export interface SubscriptionDirectory {
  list(): Promise<Subscription[]>;
}

/** The webhook delivery queue: one message per (event, subscription) attempt, optionally delayed (backoff). */
export interface WebhookDeliveryQueue {
  enqueue(deliveries: readonly WebhookDelivery[], delaySeconds?: number): Promise<void>;
}
