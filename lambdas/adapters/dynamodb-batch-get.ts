import { BatchGetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../resources';

type Key = Record<string, string>;

/** BatchGetItem's per-request key limit. */
const MAX_KEYS = 100;
const MAX_ROUNDS = 8;

const identity = (key: Record<string, unknown>): string => JSON.stringify([key[TABLE.partitionKey], key[TABLE.sortKey]]);

/** The table key of an item (or of an index entry, which always carries it). */
export const tableKeyOf = (item: Record<string, unknown>): Key => ({
  [TABLE.partitionKey]: String(item[TABLE.partitionKey]),
  [TABLE.sortKey]: String(item[TABLE.sortKey]),
});

/**
 * Strongly consistent BatchGetItem by table key for any number of keys, items answered in the order of `keys` (missing ones
 * left out). Written here because neither the SDK nor lib-dynamodb retries `UnprocessedKeys` (DynamoDB returns
 * them under throttling): they are asked again with jittered backoff; still unprocessed after that, it throws
 * (the caller's request or message is then retried as a whole, nothing half-read is used).
 */
export async function batchGetInOrder(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Key[],
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<Record<string, unknown>[]> {
  const found = new Map<string, Record<string, unknown>>();
  for (let start = 0; start < keys.length; start += MAX_KEYS) {
    let pending: Key[] = keys.slice(start, start + MAX_KEYS);
    for (let round = 0; pending.length > 0; round++) {
      if (round === MAX_ROUNDS) throw new Error(`BatchGetItem left ${pending.length} key(s) unprocessed after ${MAX_ROUNDS} rounds`);
      if (round > 0) await sleep(Math.random() * Math.min(1_000, 25 * 2 ** round));
      const result = await client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }));
      for (const item of result.Responses?.[tableName] ?? []) found.set(identity(item), item);
      pending = (result.UnprocessedKeys?.[tableName]?.Keys ?? []) as Key[];
    }
  }
  return keys.flatMap((key) => {
    const item = found.get(identity(key));
    return item ? [item] : [];
  });
}
