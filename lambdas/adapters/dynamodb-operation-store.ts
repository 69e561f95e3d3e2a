import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { cardSettlement } from '../domain/job';
import { isFinal, type Operation, type OperationStatus } from '../domain/operation';
import type { CreateResult, IdempotencyClaim, OperationStore } from '../ports/operation-store';
import { TABLE } from '../resources';
import { batchGetInOrder, tableKeyOf } from './dynamodb-batch-get';
import { sendRetryingConflicts } from './dynamodb-transactions';
import { jobCardSettleItems, jobCardStartItems } from './dynamodb-job-store';

/**
 * Item layout (single table):
 *   operation         pk=OP#<operationId>   sk=OP     the Operation, with `version`
 *   idempotency key   pk=IDEM#<key>         sk=IDEM   requestHash, operationId, expiresAt (TTL)
 *   sequence          pk=SEQ#CARD#<issuerCardRefId> sk=SEQ   an atomic counter per card: its operations' creation order
 * A counter per card, not one for the table: every creation writing one item would cap them near 1 000/s (one
 * partition), while a card sees a handful of operations.
 * The correlation id sent to D1 is the operation id, so a callback finds its operation with one GetItem.
 */
export const operationKey = (operationId: string) => ({ pk: `OP#${operationId}`, sk: 'OP' });
const idempotencyKey = (key: string) => ({ pk: `IDEM#${key}`, sk: 'IDEM' });

const OPERATION_FIELDS = [
  'operationId',
  'correlationId',
  'action',
  'scope',
  'issuerCardRefId',
  'virtualCardId',
  'reason',
  'status',
  'submitAttempts',
  'failure',
  'tokens',
  'expectedTokens',
  'createdAt',
  'updatedAt',
  'order',
  'requestedBy',
  'jobId',
  'version',
] as const satisfies readonly (keyof Operation)[];

/** Sparse index entry while an operation is open: the reconciliation sweep queries it instead of scanning. */
export const OPEN_OPERATIONS = 'OPEN_OPERATIONS';

/** The stored item of an operation at `version` (the caller's condition guards the previous one). */
export function operationItem(operation: Operation, version: number): Record<string, unknown> {
  const open = !isFinal(operation.status) ? { gsi1pk: OPEN_OPERATIONS, gsi1sk: `${operation.createdAt}#${operation.operationId}` } : {};
  return { ...operationKey(operation.operationId), entity: 'OPERATION', ...operation, version, ...open };
}

export function fromItem(item: Record<string, unknown>): Operation {
  return Object.fromEntries(OPERATION_FIELDS.map((f) => [f, item[f] ?? null])) as unknown as Operation;
}

export class DynamoDbOperationStore implements OperationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async create(operation: Operation, idempotency?: IdempotencyClaim): Promise<CreateResult> {
    const putOperation = {
      Put: { TableName: this.tableName, Item: operationItem(operation, operation.version), ConditionExpression: 'attribute_not_exists(pk)' },
    };
    const claim = idempotency
      ? [
          {
            Put: {
              TableName: this.tableName,
              Item: {
                ...idempotencyKey(idempotency.key),
                entity: 'IDEMPOTENCY_KEY',
                operationId: operation.operationId,
                requestHash: idempotency.requestHash,
                expiresAt: idempotency.expiresAt,
              },
              // TTL deletion lags; an expired key is free even while its item lingers.
              ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
              ExpressionAttributeValues: { ':now': Math.floor(this.now() / 1000) },
            },
          },
        ]
      : [];
    const jobCard =
      operation.jobId === null
        ? []
        : jobCardStartItems(this.tableName, { jobId: operation.jobId, issuerCardRefId: operation.issuerCardRefId }, operation.operationId, operation.createdAt);
    try {
      await sendRetryingConflicts(this.client, new TransactWriteCommand({ TransactItems: [...claim, putOperation, ...jobCard] }));
      return { kind: 'created' };
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const reasons = err.CancellationReasons ?? [];
      const failed = (n: number) => reasons[n]?.Code === 'ConditionalCheckFailed';
      // The card was started already (a redelivered tick) or the job stopped running: the card condition says so.
      if (jobCard.length > 0 && (failed(claim.length + 1) || failed(claim.length + 2))) return { kind: 'card-not-startable' };
      if (!idempotency || !failed(0)) throw err;
      const existing = await this.findIdempotencyKey(idempotency.key);
      if (!existing) throw err; // expired between the two calls: let the caller retry
      return { kind: 'key-exists', ...existing };
    }
  }

  async nextSequence(issuerCardRefId: string): Promise<number> {
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `SEQ#CARD#${issuerCardRefId}`, sk: 'SEQ' },
        UpdateExpression: 'ADD #value :one',
        ExpressionAttributeNames: { '#value': 'value' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(result.Attributes?.value);
  }

  async findIdempotencyKey(key: string): Promise<{ operationId: string; requestHash: string } | null> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: idempotencyKey(key), ConsistentRead: true }));
    const item = result.Item;
    if (!item || Number(item.expiresAt) < Math.floor(this.now() / 1000)) return null;
    return { operationId: String(item.operationId), requestHash: String(item.requestHash) };
  }

  async listOpen(filter: { issuerCardRefId?: string; createdBefore?: string }): Promise<Operation[]> {
    const keys: Array<Record<string, string>> = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE.globalIndexes[0].name,
          KeyConditionExpression: filter.createdBefore ? 'gsi1pk = :open AND gsi1sk < :before' : 'gsi1pk = :open',
          ...(filter.issuerCardRefId ? { FilterExpression: 'issuerCardRefId = :card' } : {}),
          ExpressionAttributeValues: {
            ':open': OPEN_OPERATIONS,
            ...(filter.createdBefore ? { ':before': filter.createdBefore } : {}),
            ...(filter.issuerCardRefId ? { ':card': filter.issuerCardRefId } : {}),
          },
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      keys.push(...(result.Items ?? []).map(tableKeyOf));
      exclusiveStartKey = result.LastEvaluatedKey;
    } while (exclusiveStartKey);
    // The index holds keys (and issuerCardRefId, for the filter) only. An operation that became final since the
    // index was read is still returned: callers decide on the status they read, as before.
    const items = await batchGetInOrder(this.client, this.tableName, keys);
    return items.filter((item) => item.entity === 'OPERATION').map(fromItem);
  }

  async get(operationId: string): Promise<Operation | null> {
    const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: operationKey(operationId), ConsistentRead: true }));
    return result.Item && result.Item.entity === 'OPERATION' ? fromItem(result.Item) : null;
  }

  async save(operation: Operation, previous: { version: number; status: OperationStatus }): Promise<'SAVED' | 'CONFLICT'> {
    const put = {
      TableName: this.tableName,
      Item: operationItem(operation, previous.version + 1),
      ConditionExpression: 'version = :expected',
      ExpressionAttributeValues: { ':expected': previous.version },
    };
    const settlement = cardSettlement(previous.status, operation);
    try {
      // Operations of no job (or not becoming final): one conditional put, as ever.
      if (!settlement) await this.client.send(new PutCommand(put));
      else
        await sendRetryingConflicts(
          this.client,
          new TransactWriteCommand({ TransactItems: [{ Put: put }, ...jobCardSettleItems(this.tableName, settlement, operation.updatedAt)] }),
        );
      return 'SAVED';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'CONFLICT';
      if (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return 'CONFLICT';
      throw err;
    }
  }
}
