/**
 * SDK middleware that counts every DynamoDB and SQS request the handlers make, registered through the client
 * hooks of lambdas/adapters (default no-ops), so the product code runs unchanged.
 *
 * DynamoDB write cost is counted twice, on purpose:
 * - `wru`: computed from the request per the AWS rules (1 WRU per started KB of item, ×2 inside a transaction,
 *   a ConditionCheck in a transaction = 2, +1 per index entry a put adds or removes — see `indexed`; failed
 *   conditional writes are billed like successful ones). This is what the cost model uses.
 * - `localCapacity`: what DynamoDB Local reports with ReturnConsumedCapacity=INDEXES (injected here). It matches
 *   the rules for single-item calls but is inconsistent for transactions (measured: two small puts report 2, not
 *   4) and absent on failures, so it is shown for comparison only.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DynamoDBClient, ServiceInputTypes as DynamoDbInput, ServiceOutputTypes as DynamoDbOutput } from '@aws-sdk/client-dynamodb';
import type { SQSClient, ServiceInputTypes as SqsInput, ServiceOutputTypes as SqsOutput } from '@aws-sdk/client-sqs';
// Type-only: the middleware signature of the SDK's own type package (installed with every @aws-sdk client).
import type { InitializeMiddleware } from '@smithy/types';
import { SQS_CHUNK_BYTES } from './prices';
import { TABLE } from '../lambdas/topology';

export interface CommandCount {
  requests: number;
  /** Requests that answered an error (conditional check failed, transaction cancelled…), by error name. */
  failures: Record<string, number>;
  /** DynamoDB: computed write request units (AWS rules). */
  wru: number;
  /** DynamoDB: read request units (DynamoDB Local's figure; it matches the rules for GetItem/Query). */
  rru: number;
  /** DynamoDB: capacity DynamoDB Local reported (successful calls only). */
  localCapacity: number;
  /** SQS: billed requests (64 KB chunks) and messages carried. */
  billedRequests: number;
  messages: number;
}

export type ServiceCounts = Record<string, CommandCount>;
export interface HandlerSdkCounts {
  dynamodb: ServiceCounts;
  sqs: ServiceCounts;
}
export interface SdkCounts extends HandlerSdkCounts {
  /**
   * The same requests split by the handler invocation that made them (`attributeTo`); requests made outside any
   * invocation (the bench's own setup) are under UNATTRIBUTED. Summed over handlers = the totals above.
   */
  byHandler: Record<string, HandlerSdkCounts>;
}

export const UNATTRIBUTED = '(none)';

/** Which handler invocation the current async context belongs to: every SDK call it makes is counted for it. */
const invocation = new AsyncLocalStorage<string>();

/** Runs `body` (one handler invocation) so that the requests it makes are attributed to `handler`. */
export function attributeTo<T>(handler: string, body: () => T): T {
  return invocation.run(handler, body);
}

const emptyCount = (): CommandCount => ({ requests: 0, failures: {}, wru: 0, rru: 0, localCapacity: 0, billedRequests: 0, messages: 0 });

let counts: SdkCounts = { dynamodb: {}, sqs: {}, byHandler: {} };

export function resetSdkCounts(): void {
  counts = { dynamodb: {}, sqs: {}, byHandler: {} };
}

export function sdkCounts(): SdkCounts {
  return structuredClone(counts);
}

/** The counts a request adds to: the totals and its handler's. */
class Tally {
  constructor(private readonly targets: CommandCount[]) {}
  add(field: 'requests' | 'wru' | 'rru' | 'localCapacity' | 'billedRequests' | 'messages', value: number): void {
    for (const target of this.targets) target[field] += value;
  }
  fail(name: string): void {
    for (const target of this.targets) target.failures[name] = (target.failures[name] ?? 0) + 1;
  }
}

function entry(service: keyof HandlerSdkCounts, command: string): Tally {
  const handler = invocation.getStore() ?? UNATTRIBUTED;
  const own = (counts.byHandler[handler] ??= { dynamodb: {}, sqs: {} });
  return new Tally([(counts[service][command] ??= emptyCount()), (own[service][command] ??= emptyCount())]);
}

const commandName = (context: { commandName?: string }): string => (context.commandName ?? 'Unknown').replace(/Command$/, '');

// ------------------------------------------------------------------------------------------------------------
// DynamoDB item size and write units (AWS rules)

/**
 * Approximate stored size of a (document-client, unmarshalled) value, per the DynamoDB item-size rules:
 * strings by UTF-8 length, numbers ~1 byte per 2 significant digits + 1, maps/lists 3 bytes + 1 per element.
 */
export function valueBytes(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'bigint') return Math.ceil(String(value).replace(/[-.]/g, '').replace(/^0+/, '').length / 2) + 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((sum: number, v) => sum + valueBytes(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueBytes(v), 0);
  if (typeof value === 'object') return 3 + itemBytes(value as Record<string, unknown>) + Object.keys(value).length;
  return 1;
}

export function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue; // removeUndefinedValues: not stored
    bytes += Buffer.byteLength(name, 'utf8') + valueBytes(value);
  }
  return bytes;
}

const kbUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

/**
 * What each item last put into each index (its index keys and projected attributes), by table key: an index is
 * written only when that changes (AWS: a write that changes no indexed key or projected attribute writes no index
 * entry) — 1 unit to add an entry, 1 to remove one, 1 to rewrite it in place (same index keys, a projected value
 * changed), 2 to move it (index keys changed). Items this process never wrote count as absent (a conservative
 * overestimate on their first write). Updated, and billed, only when the write succeeded: a failed conditional
 * write or cancelled transaction writes no index entry.
 */
const indexed = new Map<string, { keys: string; entry: string }>();

interface IndexEntry {
  slot: string;
  /** Undefined when the item carries no index keys (not in the index). */
  value: { keys: string; entry: string } | undefined;
}

function indexEntries(table: string, item: Record<string, unknown>): IndexEntry[] {
  return TABLE.globalIndexes.map((gsi) => {
    const slot = JSON.stringify([table, gsi.name, item[TABLE.partitionKey], item[TABLE.sortKey]]);
    const carries = item[gsi.partitionKey] !== undefined && item[gsi.sortKey] !== undefined;
    const keys = JSON.stringify([item[gsi.partitionKey], item[gsi.sortKey]]);
    const projected = gsi.projectedAttributes === 'ALL' ? Object.keys(item).sort() : [gsi.partitionKey, gsi.sortKey, ...gsi.projectedAttributes];
    const entry = JSON.stringify(projected.map((a) => item[a] ?? null));
    return { slot, value: carries ? { keys, entry } : undefined };
  });
}

function putsOf(command: string, input: Record<string, unknown>): Array<{ TableName?: string; Item: Record<string, unknown> }> {
  if (command === 'PutItem') return [input as never];
  if (command === 'TransactWriteItems') return ((input.TransactItems ?? []) as TransactItem[]).flatMap((a) => (a.Put ? [a.Put] : []));
  return [];
}

/** Forgets what the index held (tests). */
export function resetIndexLedger(): void {
  indexed.clear();
}

/** Index write units the request's puts cost if it succeeds. */
export function indexWriteUnits(command: string, input: Record<string, unknown>): number {
  let units = 0;
  for (const put of putsOf(command, input)) {
    for (const { slot, value } of indexEntries(String(put.TableName), put.Item)) {
      const before = indexed.get(slot);
      if (before?.entry === value?.entry) continue;
      if (before && value && before.keys === value.keys) units += kbUnits(Buffer.byteLength(value.entry));
      else units += (before ? 1 : 0) + (value ? kbUnits(Buffer.byteLength(value.entry)) : 0);
    }
  }
  return units;
}

/** After a write succeeded: what its puts left in the index. */
export function recordIndexed(command: string, input: Record<string, unknown>): void {
  for (const put of putsOf(command, input)) {
    for (const { slot, value } of indexEntries(String(put.TableName), put.Item)) {
      if (value === undefined) indexed.delete(slot);
      else indexed.set(slot, value);
    }
  }
}

/** Size of an UpdateItem's new values: a floor (the item's other attributes are unknown here). */
function updateValueBytes(input: Record<string, unknown>): number {
  const key = (input.Key ?? {}) as Record<string, unknown>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  return itemBytes(key) + Object.values(values).reduce((sum: number, v) => sum + valueBytes(v), 0);
}

interface TransactItem {
  Put?: { TableName?: string; Item: Record<string, unknown> };
  Update?: Record<string, unknown>;
  Delete?: unknown;
  ConditionCheck?: unknown;
}

/** Write units a request is billed per the AWS rules; null when DynamoDB Local's own figure is the better one. */
export function computedWriteUnits(command: string, input: Record<string, unknown>): number | null {
  switch (command) {
    case 'PutItem': {
      const item = input.Item as Record<string, unknown>;
      return kbUnits(itemBytes(item));
    }
    case 'TransactWriteItems': {
      let units = 0;
      for (const action of (input.TransactItems ?? []) as TransactItem[]) {
        if (action.Put) units += 2 * kbUnits(itemBytes(action.Put.Item));
        else if (action.Update) units += 2 * kbUnits(updateValueBytes(action.Update));
        else units += 2; // Delete or ConditionCheck of an item ≤ 1 KB
      }
      return units;
    }
    case 'UpdateItem':
    case 'DeleteItem':
      return null; // the stored item's size decides: DynamoDB Local computes it on the real item
    default:
      return 0;
  }
}

/**
 * AWS bills each key of a BatchGetItem as its own GetItem (a missing item still reads 1 unit, 0.5 eventually
 * consistent; each found item rounded up to 4 KB). DynamoDB Local reports less (it skips missing items), so this is
 * computed from the answer. Only keys answered count: unprocessed ones are billed when asked again.
 */
export function batchGetReadUnits(input: Record<string, unknown>, output: unknown): number {
  const requests = (input.RequestItems ?? {}) as Record<string, { Keys?: unknown[]; ConsistentRead?: boolean }>;
  const answer = output as { Responses?: Record<string, Record<string, unknown>[]>; UnprocessedKeys?: Record<string, { Keys?: unknown[] }> } | undefined;
  let units = 0;
  for (const [table, request] of Object.entries(requests)) {
    const found = answer?.Responses?.[table] ?? [];
    const unprocessed = answer?.UnprocessedKeys?.[table]?.Keys?.length ?? 0;
    const missing = Math.max(0, (request.Keys?.length ?? 0) - found.length - unprocessed);
    const full = found.reduce((sum, item) => sum + Math.max(1, Math.ceil(itemBytes(item) / 4096)), 0) + missing;
    units += request.ConsistentRead ? full : full / 2;
  }
  return units;
}

const READ_COMMANDS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);
const DATA_COMMANDS = new Set([...READ_COMMANDS, 'PutItem', 'UpdateItem', 'DeleteItem', 'TransactWriteItems', 'BatchWriteItem']);

interface ConsumedCapacity {
  CapacityUnits?: number;
}

function reportedUnits(output: unknown): number {
  const consumed = (output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] } | undefined)?.ConsumedCapacity;
  if (!consumed) return 0;
  return (Array.isArray(consumed) ? consumed : [consumed]).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

const dynamoDbCounter: InitializeMiddleware<DynamoDbInput, DynamoDbOutput> = (next, context) => async (args) => {
  const command = commandName(context);
  const count = entry('dynamodb', command);
  count.add('requests', 1);
  const input = args.input as unknown as Record<string, unknown>;
  const computed = computedWriteUnits(command, input);
  const withCapacity = DATA_COMMANDS.has(command) ? { ...args, input: { ...input, ReturnConsumedCapacity: 'INDEXES' } as unknown as DynamoDbInput } : args;
  try {
    const indexUnits = indexWriteUnits(command, input); // before the request: against what the index held
    const result = await next(withCapacity);
    count.add('wru', indexUnits);
    recordIndexed(command, input);
    const reported = reportedUnits(result.output);
    count.add('localCapacity', reported);
    if (command === 'BatchGetItem') count.add('rru', batchGetReadUnits(input, result.output));
    else if (READ_COMMANDS.has(command)) count.add('rru', reported);
    else count.add('wru', computed ?? reported);
    return result;
  } catch (err) {
    const name = (err as Error).name;
    count.fail(name);
    // A failed conditional write is billed as if it had written (AWS); a failed read still reads (≥ 1 RRU).
    if (READ_COMMANDS.has(command)) count.add('rru', 1);
    else count.add('wru', computed ?? kbUnits(updateValueBytes(input)));
    throw err;
  }
};

// ------------------------------------------------------------------------------------------------------------
// SQS requests and 64 KB chunks

function sqsBilling(command: string, input: Record<string, unknown>): { billed: number; messages: number } {
  if (command === 'SendMessage') return { billed: Math.ceil(Math.max(1, Buffer.byteLength(String(input.MessageBody ?? ''))) / SQS_CHUNK_BYTES), messages: 1 };
  if (command === 'SendMessageBatch') {
    const entries = (input.Entries ?? []) as { MessageBody?: string }[];
    const bytes = entries.reduce((sum, e) => sum + Buffer.byteLength(e.MessageBody ?? ''), 0);
    return { billed: Math.max(1, Math.ceil(bytes / SQS_CHUNK_BYTES)), messages: entries.length };
  }
  return { billed: 1, messages: 0 };
}

const sqsCounter: InitializeMiddleware<SqsInput, SqsOutput> = (next, context) => async (args) => {
  const command = commandName(context);
  const count = entry('sqs', command);
  const billing = sqsBilling(command, args.input as unknown as Record<string, unknown>);
  count.add('requests', 1);
  count.add('billedRequests', billing.billed);
  count.add('messages', billing.messages);
  try {
    return await next(args);
  } catch (err) {
    const name = (err as Error).name;
    count.fail(name);
    throw err;
  }
};

export function countDynamoDbRequests(client: DynamoDBClient): void {
  client.middlewareStack.add(dynamoDbCounter, { step: 'initialize', name: 'benchDynamoDbCounter', override: true });
}

export function countSqsRequests(client: SQSClient): void {
  client.middlewareStack.add(sqsCounter, { step: 'initialize', name: 'benchSqsCounter', override: true });
}

/** Sums a service's commands; `filter` picks commands (e.g. writes only). */
export function total(counts: ServiceCounts, field: keyof Omit<CommandCount, 'failures'>, filter: (command: string) => boolean = () => true): number {
  return Object.entries(counts)
    .filter(([command]) => filter(command))
    .reduce((sum, [, c]) => sum + c[field], 0);
}

export const isDynamoDbWrite = (command: string): boolean => DATA_COMMANDS.has(command) && !READ_COMMANDS.has(command);
export const isDynamoDbRead = (command: string): boolean => READ_COMMANDS.has(command);
