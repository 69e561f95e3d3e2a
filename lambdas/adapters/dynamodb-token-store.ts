import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { RecordedChange } from '../domain/events';
import type { Operation } from '../domain/operation';
import type { Token } from '../domain/token';
import type { HistoryEvent } from '../domain/virtual-card-change';
import type { ChangeRecord, DeviceUpdate, Page, PageRequest, RecordResult, TokenStore } from '../ports/token-store';
import { TABLE } from '../resources';
import { fromItem as operationFromItem, operationItem, operationKey } from './dynamodb-operation-store';
import { jobCardSettleItems } from './dynamodb-job-store';
import { sendRetryingConflicts } from './dynamodb-transactions';
import { cardSettlement } from '../domain/job';
import { batchGetInOrder } from './dynamodb-batch-get';
import { indexPage } from './dynamodb-index-page';
import { decodePageToken, encodePageToken } from './pagination';

/**
 * Item layout (single table, DESIGN §7):
 *   token   pk=TOKEN#<virtualCardId> sk=TOKEN             gsi1pk=CARD#<issuerCardRefId> gsi1sk=TOKEN#<virtualCardId>
 *   event   pk=TOKEN#<virtualCardId> sk=EVT#<dedupeKey>   seq=EVT#<token version, zero-padded>
 * The event item is both the dedupe record (its key is the callback's identity) and the history entry; `seq`, the
 * token version its write produced, orders the history. It is a plain attribute, not an index key: an LSI on it
 * would cost a write per callback, while a token's history is short and read rarely (read whole, sorted here).
 */
const tokenKey = (virtualCardId: string) => ({ pk: `TOKEN#${virtualCardId}`, sk: 'TOKEN' });
const sequence = (version: number): string => `EVT#${String(version).padStart(10, '0')}`;
const GSI = TABLE.globalIndexes[0];
const HISTORY_ORDER = 'seq';

const TOKEN_FIELDS = [
  'virtualCardId',
  'issuerCardRefId',
  'walletProviderId',
  'tokenStorageId',
  'walletCardRefId',
  'device',
  'state',
  'lastAction',
  'lastChangeSource',
  'lastOperationId',
  'renewals',
  'lastRenewedAt',
  'updatedAt',
  'lastOperationOrder',
  'lastStateChangeAt',
  'version',
] as const satisfies readonly (keyof Token)[];

const EVENT_FIELDS = [
  'at',
  'action',
  'source',
  'correlationId',
  'operationId',
  'requestedBy',
  'errorCode',
  'outcome',
  'stateAfter',
] as const satisfies readonly (keyof HistoryEvent)[];

/**
 * Attributes written only when they have a value (read back as null when absent, as on items written before them):
 * an item over 1 KB doubles the write units of its transaction, and most callbacks carry none of them.
 */
const TOKEN_OPTIONAL: readonly (keyof Token)[] = ['tokenStorageId', 'walletCardRefId', 'device'];
const EVENT_OPTIONAL: readonly (keyof HistoryEvent)[] = ['requestedBy'];

function withoutNulls<T extends object>(value: T, fields: readonly (keyof T)[]): Partial<T> {
  const copy: Partial<T> = { ...value };
  for (const field of fields) if (copy[field] === null || copy[field] === undefined) delete copy[field];
  return copy;
}

function pick<T>(item: Record<string, unknown>, fields: readonly (keyof T)[]): T {
  return Object.fromEntries(fields.map((f) => [f, item[f as string] ?? null])) as T;
}

/** The token a stored item holds (also how the stream publisher reads the item's images). */
export const tokenFromItem = (item: Record<string, unknown>): Token => pick<Token>(item, TOKEN_FIELDS);

/** What the write of a token version recorded (`recordedChange`, next to the token for the change stream). */
export function recordedChangeOf(item: Record<string, unknown>): RecordedChange | null {
  const recorded = item[RECORDED_CHANGE];
  return typeof recorded === 'object' && recorded !== null ? (recorded as RecordedChange) : null;
}

const RECORDED_CHANGE = 'recordedChange';

export interface DynamoDbTokenStoreOptions {
  tableName: string;
  /** History/dedupe retention; undefined = kept forever (DESIGN §2 rule 15: TTL off by default, ≥ 30 days). */
  historyRetentionDays?: number | undefined;
  now?: () => number;
}

export class DynamoDbTokenStore implements TokenStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: DynamoDbTokenStoreOptions,
  ) {}

  async getToken(virtualCardId: string): Promise<Token | null> {
    const result = await this.client.send(new GetCommand({ TableName: this.options.tableName, Key: tokenKey(virtualCardId), ConsistentRead: true }));
    return result.Item ? tokenFromItem(result.Item) : null;
  }

  async getTokenAndOperation(virtualCardId: string, operationId: string | null): Promise<{ token: Token | null; operation: Operation | null }> {
    // One BatchGetItem instead of two GetItems: same read units, one round trip and one request to serve.
    const keys = operationId === null ? [tokenKey(virtualCardId)] : [tokenKey(virtualCardId), operationKey(operationId)];
    const items = await batchGetInOrder(this.client, this.options.tableName, keys);
    const token = items.find((item) => item[TABLE.sortKey] === 'TOKEN');
    const operation = items.find((item) => item[TABLE.sortKey] === 'OP' && item.entity === 'OPERATION');
    return { token: token ? tokenFromItem(token) : null, operation: operation ? operationFromItem(operation) : null };
  }

  async listCardTokens(issuerCardRefId: string, page: PageRequest): Promise<Page<Token>> {
    const { items, nextToken } = await indexPage(this.client, this.options.tableName, `CARD#${issuerCardRefId}`, page);
    return { items: items.map(tokenFromItem), nextToken };
  }

  async history(virtualCardId: string, page: PageRequest): Promise<Page<HistoryEvent>> {
    const { pk } = tokenKey(virtualCardId);
    const keyNames = [TABLE.partitionKey, TABLE.sortKey, HISTORY_ORDER];
    const after = decodePageToken(page.nextToken, { attribute: TABLE.partitionKey, value: pk }, keyNames);
    const position = (item: Record<string, unknown>): [string, string] => [String(item[HISTORY_ORDER]), String(item[TABLE.sortKey])];
    const before = (a: [string, string], b: [string, string]): boolean => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
    const events = (await this.allEvents(pk)).sort((a, b) => (before(position(a), position(b)) ? -1 : 1));
    const from = after ? ([after[HISTORY_ORDER]!, after[TABLE.sortKey]!] as [string, string]) : null;
    const rest = from ? events.filter((e) => before(from, position(e))) : events;
    const pageItems = rest.slice(0, page.limit);
    const last = pageItems[pageItems.length - 1];
    return {
      items: pageItems.map((item) => pick<HistoryEvent>(item, EVENT_FIELDS)),
      nextToken: rest.length > page.limit && last ? encodePageToken(Object.fromEntries(keyNames.map((k) => [k, String(last[k])]))) : null,
    };
  }

  /** Every event item of a token (the dedupe records are the history entries). */
  private async allEvents(pk: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :evt)',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#sk': TABLE.sortKey },
          ExpressionAttributeValues: { ':pk': pk, ':evt': 'EVT#' },
          ConsistentRead: true,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      items.push(...(result.Items ?? []));
      exclusiveStartKey = result.LastEvaluatedKey;
    } while (exclusiveStartKey);
    return items;
  }

  async recordDevice(update: DeviceUpdate): Promise<'RECORDED' | 'CONFLICT'> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: tokenKey(update.virtualCardId),
          UpdateExpression: 'SET #device = :device, #version = :next',
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#device': 'device', '#version': 'version' },
          ExpressionAttributeValues: { ':device': update.device, ':expected': update.expectedVersion, ':next': update.expectedVersion + 1 },
        }),
      );
      return 'RECORDED';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'CONFLICT';
      throw err;
    }
  }

  async recordChange(record: ChangeRecord): Promise<RecordResult> {
    const { tableName } = this.options;
    const { pk } = tokenKey(record.virtualCardId);
    const newVersion = (record.expectedVersion ?? 0) + 1;
    const retentionDays = this.options.historyRetentionDays;
    const expiresAt = retentionDays ? Math.floor((this.options.now?.() ?? Date.now()) / 1000) + retentionDays * 86_400 : undefined;
    const versionGuard =
      record.expectedVersion === null
        ? { ConditionExpression: 'attribute_not_exists(pk)' }
        : { ConditionExpression: 'version = :expected', ExpressionAttributeValues: { ':expected': record.expectedVersion } };

    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      {
        Put: {
          TableName: tableName,
          Item: {
            pk,
            sk: `EVT#${record.dedupeKey}`,
            // A callback recorded before the token is known sorts ahead of the token's own events.
            [HISTORY_ORDER]: record.token ? sequence(newVersion) : `${sequence(0)}#${record.event.at}`,
            entity: 'EVENT',
            virtualCardId: record.virtualCardId,
            ...withoutNulls(record.event, EVENT_OPTIONAL),
            ...(expiresAt ? { [TABLE.ttlAttribute]: expiresAt } : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      record.token
        ? {
            Put: {
              TableName: tableName,
              Item: {
                ...tokenKey(record.virtualCardId),
                [GSI.partitionKey]: `CARD#${record.token.issuerCardRefId}`,
                [GSI.sortKey]: `TOKEN#${record.virtualCardId}`,
                entity: 'TOKEN',
                ...withoutNulls(record.token, TOKEN_OPTIONAL),
                version: newVersion,
                // What this version's write recorded, for the stream publisher (DESIGN §8): the token keeps only its
                // last *applied* change, and a failed or ignored callback still bumps the version.
                [RECORDED_CHANGE]: {
                  action: record.event.action,
                  source: record.event.source,
                  operationId: record.event.operationId,
                  outcome: record.event.outcome,
                  at: record.event.at,
                } satisfies RecordedChange,
              },
              ...versionGuard,
            },
          }
        : // Still unknown: make sure it was not created meanwhile, else this event's order would be wrong.
          { ConditionCheck: { TableName: tableName, Key: tokenKey(record.virtualCardId), ...versionGuard } },
    ];

    if (record.operation) {
      const { value, expectedVersion, previousStatus } = record.operation;
      items.push({
        Put: {
          TableName: tableName,
          Item: operationItem(value, expectedVersion + 1),
          ConditionExpression: 'version = :opVersion',
          ExpressionAttributeValues: { ':opVersion': expectedVersion },
        },
      });
      // The callback that makes a job's operation final settles its card in the same write.
      const settlement = cardSettlement(previousStatus, value);
      if (settlement) items.push(...jobCardSettleItems(tableName, settlement, value.updatedAt));
    }

    try {
      await sendRetryingConflicts(this.client, new TransactWriteCommand({ TransactItems: items }));
      return 'RECORDED';
    } catch (err) {
      if (err instanceof TransactionCanceledException) {
        const [eventReason] = err.CancellationReasons ?? [];
        return eventReason?.Code === 'ConditionalCheckFailed' ? 'DUPLICATE' : 'CONFLICT';
      }
      throw err;
    }
  }
}
