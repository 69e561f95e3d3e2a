import { createHash } from 'node:crypto';
import { NETWORK_TOKEN_DATA_FIELDS, networkTokenView, type NetworkToken } from './network-token';
import { isFinal, operationView, type Operation } from './operation';
import type { ChangeSource, Token, TokenState } from './token';
import type { ChangeOutcome } from './virtual-card-change';

/**
 * Events out (DESIGN §8): what the customer's systems are told about every change we commit. Pure: the change
 * comes in as the item before and after the write (the table's change stream), the events go out.
 */

export const EVENT_TYPES = [
  'token.created',
  'token.state_changed',
  'token.renewed',
  'operation.completed',
  'network_token.updated',
  'network_token.credentials_dropped',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const isEventType = (value: string): value is EventType => (EVENT_TYPES as readonly string[]).includes(value);

/** One event: the same JSON as webhook body, EventBridge `detail` and `GET /v1/events` item. */
export interface ServiceEvent {
  id: string;
  type: EventType;
  timestamp: string;
  data: Record<string, unknown>;
}

/** What the write of one token version recorded (kept on the token item next to it, for the stream). */
export interface RecordedChange {
  action: string;
  source: ChangeSource;
  operationId: string | null;
  outcome: ChangeOutcome;
  at: string;
}

export type CommittedChange =
  | { entity: 'TOKEN'; before: Token | null; after: Token | null; recorded: RecordedChange | null }
  | { entity: 'OPERATION'; before: Operation | null; after: Operation | null }
  | {
      entity: 'NETWORK_TOKEN';
      before: (NetworkToken & { credentialsSealed: boolean }) | null;
      after: (NetworkToken & { credentialsSealed: boolean }) | null;
    };

/**
 * The event's id, derived from the change itself: the entity, the version its write produced and the type. The
 * same change read again (stream retry, replay, re-publication) gets the same id; two changes never share one.
 */
export function eventId(entity: string, key: string, version: number, type: EventType): string {
  return `evt_${createHash('sha256')
    .update(JSON.stringify([entity, key, version, type]))
    .digest('base64url')
    .slice(0, 26)}`;
}

const event = (type: EventType, entity: string, key: string, version: number, timestamp: string, data: Record<string, unknown>): ServiceEvent => ({
  id: eventId(entity, key, version, type),
  type,
  timestamp,
  data,
});

function tokenEvents(before: Token | null, after: Token | null, recorded: RecordedChange | null): ServiceEvent[] {
  // A token is never deleted from the table (DELETED is a state); a write that applied nothing (failed,
  // superseded, ignored callbacks bump the version only) publishes nothing.
  if (!after || !recorded || recorded.outcome !== 'APPLIED') return [];
  const at = recorded.at;
  const base = { virtualCardId: after.virtualCardId, issuerCardRefId: after.issuerCardRefId };
  const sequence = after.version;
  if (!before) {
    return [
      event('token.created', 'TOKEN', after.virtualCardId, sequence, at, {
        ...base,
        state: after.state,
        walletProviderId: after.walletProviderId,
        source: recorded.source,
        sequence,
      }),
    ];
  }
  const events: ServiceEvent[] = [];
  if (before.state !== after.state) {
    events.push(
      event('token.state_changed', 'TOKEN', after.virtualCardId, sequence, at, {
        ...base,
        from: before.state satisfies TokenState,
        to: after.state,
        action: recorded.action,
        source: recorded.source,
        operationId: recorded.operationId,
        sequence,
      }),
    );
  }
  if (after.renewals > before.renewals) {
    // A failed renewal is a failed callback: it changes nothing and publishes nothing, so errorCode is null here.
    events.push(event('token.renewed', 'TOKEN', after.virtualCardId, sequence, at, { ...base, renewals: after.renewals, errorCode: null, sequence }));
  }
  return events;
}

function operationEvents(before: Operation | null, after: Operation | null): ServiceEvent[] {
  if (!after || !isFinal(after.status) || (before && isFinal(before.status))) return [];
  return [event('operation.completed', 'OPERATION', after.operationId, after.version, after.updatedAt, operationView(after))];
}

function networkTokenEvents(
  before: (NetworkToken & { credentialsSealed: boolean }) | null,
  after: (NetworkToken & { credentialsSealed: boolean }) | null,
): ServiceEvent[] {
  if (!after) return [];
  // A token first learnt: the fields it has a value for (a PAN stored only once there is one).
  const changed = NETWORK_TOKEN_DATA_FIELDS.filter((field) =>
    before ? JSON.stringify(before[field]) !== JSON.stringify(after[field]) : after[field] !== null && after[field] !== false,
  );
  const sequence = after.version;
  const events: ServiceEvent[] = [];
  if (changed.length > 0) {
    events.push(event('network_token.updated', 'NETWORK_TOKEN', after.tokenId, sequence, after.updatedAt, { ...networkTokenView(after), changed, sequence }));
  }
  if (before?.credentialsSealed && !after.credentialsSealed) {
    const reason = after.state === 'DELETED' ? 'TOKEN_DELETED' : 'LAST_DIGITS_CHANGED';
    events.push(
      event('network_token.credentials_dropped', 'NETWORK_TOKEN', after.tokenId, sequence, after.updatedAt, { tokenId: after.tokenId, reason, sequence }),
    );
  }
  return events;
}

/** The events one committed write produces, in the order they are published. */
export function eventsOf(change: CommittedChange): ServiceEvent[] {
  switch (change.entity) {
    case 'TOKEN':
      return tokenEvents(change.before, change.after, change.recorded);
    case 'OPERATION':
      return operationEvents(change.before, change.after);
    case 'NETWORK_TOKEN':
      return networkTokenEvents(change.before, change.after);
  }
}

/** A subscription's filter: no types = every type. */
export const wants = (eventTypes: readonly EventType[], type: EventType): boolean => eventTypes.length === 0 || eventTypes.includes(type);
