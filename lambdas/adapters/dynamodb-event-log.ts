import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ServiceEvent } from '../domain/events';
import { UnknownEventId, type EventLog, type EventQuery } from '../ports/events';
import { InvalidPageToken, type Page } from '../ports/token-store';
import { TABLE } from '../resources';
import { encodePageToken } from './pagination';

/**
 * Item layout (single table):
 *   event   pk=EVENT#<eventId> sk=EVENT   gsi2pk=EVENTLOG#<yyyy-mm-dd> gsi2sk=<appendedAt>#<eventId>   body, expiresAt
 * Keyed by the event id, so the conditional put appends an event exactly once however often the stream or a
 * replay hands it over; `gsi2` orders the log by when each event was first appended (one partition per UTC day).
 * The body is the event's JSON text: it comes back byte for byte as it was published.
 */
const eventKey = (id: string) => ({ pk: `EVENT#${id}`, sk: 'EVENT' });
const LOG = TABLE.globalIndexes.find((index) => index.name === 'gsi2')!;
const DAY_MS = 86_400_000;
const dayOf = (instant: string): string => instant.slice(0, 10);
const bucket = (day: string): string => `EVENTLOG#${day}`;

/**
 * A reader only sees events appended at least this long ago. Two publishers may take their timestamps in one
 * order and commit in the other, and the index is eventually consistent: without the window, a consumer that
 * pages with `after` could step past an event that becomes visible behind its cursor, and never see it.
 */
export const SETTLE_MS = 2_000;

export interface DynamoDbEventLogOptions {
  tableName: string;
  retentionDays: number;
  now?: () => number;
}

export class DynamoDbEventLog implements EventLog {
  private readonly now: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: DynamoDbEventLogOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async append(event: ServiceEvent): Promise<'APPENDED' | 'DUPLICATE'> {
    const now = this.now();
    const appendedAt = new Date(now).toISOString();
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: {
            ...eventKey(event.id),
            entity: 'EVENT_LOG',
            type: event.type,
            [LOG.partitionKey]: bucket(dayOf(appendedAt)),
            [LOG.sortKey]: `${appendedAt}#${event.id}`,
            body: JSON.stringify(event),
            [TABLE.ttlAttribute]: Math.floor(now / 1000) + this.options.retentionDays * 86_400,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'APPENDED';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'DUPLICATE';
      throw err;
    }
  }

  async list(query: EventQuery): Promise<Page<ServiceEvent>> {
    const now = this.now();
    const until = new Date(now - SETTLE_MS).toISOString();
    // Where to start: strictly after this position (`<appendedAt>#<id>`); '' sorts before every position.
    let from = query.nextToken ? decodeCursor(query.nextToken) : await this.startOf(query, now);
    const today = dayOf(until);
    const events: ServiceEvent[] = [];
    let more = false;
    for (let day = dayOf(from || until); day <= today && !more; day = nextDay(day)) {
      let exclusiveStart: Record<string, unknown> | undefined;
      do {
        const result = await this.client.send(
          new QueryCommand({
            TableName: this.options.tableName,
            IndexName: LOG.name,
            KeyConditionExpression: '#b = :b AND #p BETWEEN :from AND :until',
            ...(query.type ? { FilterExpression: '#type = :type' } : {}),
            ExpressionAttributeNames: { '#b': LOG.partitionKey, '#p': LOG.sortKey, ...(query.type ? { '#type': 'type' } : {}) },
            ExpressionAttributeValues: {
              ':b': bucket(day),
              // BETWEEN is inclusive: the start position itself is skipped below.
              ':from': from || `${day}`,
              ':until': `${until}#~`,
              ...(query.type ? { ':type': query.type } : {}),
            },
            Limit: query.limit + 1,
            ExclusiveStartKey: exclusiveStart,
          }),
        );
        for (const item of result.Items ?? []) {
          const position = String(item[LOG.sortKey]);
          if (position <= from) continue;
          if (events.length === query.limit) {
            more = true;
            break;
          }
          events.push(JSON.parse(String(item.body)) as ServiceEvent);
          from = position;
        }
        exclusiveStart = result.LastEvaluatedKey;
      } while (exclusiveStart && !more);
    }
    return { items: events, nextToken: more ? encodePageToken({ after: from }) : null };
  }

  /** The position to list from: after an event, from an instant, or from the oldest retained day. */
  private async startOf(query: EventQuery, now: number): Promise<string> {
    if (query.after) {
      const result = await this.client.send(
        new GetCommand({ TableName: this.options.tableName, Key: eventKey(query.after), ProjectionExpression: LOG.sortKey }),
      );
      const position = result.Item?.[LOG.sortKey];
      if (typeof position !== 'string') throw new UnknownEventId();
      return position;
    }
    const oldest = new Date(now - this.options.retentionDays * DAY_MS).toISOString();
    // `since` is inclusive: start just before its first possible position.
    const since = query.since ? new Date(query.since).toISOString() : undefined;
    if (since) return since > oldest ? since : oldest;
    return oldest;
  }
}

const nextDay = (day: string): string => new Date(Date.parse(`${day}T00:00:00.000Z`) + DAY_MS).toISOString().slice(0, 10);

/** Our page token: the position of the last event returned. A crafted one can only move the start point. */
function decodeCursor(token: string): string {
  try {
    const cursor: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof cursor === 'object' && cursor !== null && Object.keys(cursor).join() === 'after') {
      const after = (cursor as { after: unknown }).after;
      if (typeof after === 'string' && /^\d{4}-\d{2}-\d{2}T[^#]+#evt_[A-Za-z0-9_-]+$/.test(after)) return after;
    }
  } catch {
    // falls through
  }
  throw new InvalidPageToken();
}
