/**
 * After a pipeline run: does the table hold exactly what the oracle (bench/workload.ts) says? Read with the bench's
 * own client (not through the counted service process), strongly consistent.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { OPEN_OPERATIONS } from '../lambdas/adapters/dynamodb-operation-store';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/local-aws';
import { TABLE } from '../lambdas/topology';
import { callbackKey } from './protocol';
import type { ExpectedNetworkToken, ExpectedToken } from './workload';

export function tableClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
}

/** Runs `check` over `items`, `concurrency` at a time, and collects every mismatch it reports. */
async function checkAll<T>(items: readonly T[], concurrency: number, check: (item: T) => Promise<string[]>): Promise<string[]> {
  const mismatches: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) mismatches.push(...(await check(items[next++]!)));
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return mismatches;
}

async function queryPartition(client: DynamoDBDocumentClient, tableName: string, pk: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Issuer side: state, renewals and exactly one history event per distinct callback. */
export function verifyTokens(client: DynamoDBDocumentClient, tableName: string, expected: readonly ExpectedToken[]): Promise<string[]> {
  return checkAll(expected, 16, async (want) => {
    const items = await queryPartition(client, tableName, `TOKEN#${want.virtualCardId}`);
    const token = items.find((i) => i.sk === 'TOKEN');
    const events = items.filter((i) => String(i.sk).startsWith('EVT#')).length;
    const problems: string[] = [];
    if (events !== want.events) problems.push(`${want.virtualCardId}: ${events} history events, expected ${want.events}`);
    if (!want.exists) {
      if (token) problems.push(`${want.virtualCardId}: exists (${String(token.state)}), expected never created`);
      return problems;
    }
    if (!token) return [...problems, `${want.virtualCardId}: missing, expected ${want.state}`];
    if (token.state !== want.state) problems.push(`${want.virtualCardId}: state ${String(token.state)}, expected ${want.state}`);
    if (want.renewals !== null && token.renewals !== want.renewals)
      problems.push(`${want.virtualCardId}: renewals ${String(token.renewals)}, expected ${want.renewals}`);
    return problems;
  });
}

/** Merchant side: the newest update's state, digits and timestamp. */
export function verifyNetworkTokens(client: DynamoDBDocumentClient, tableName: string, expected: readonly ExpectedNetworkToken[]): Promise<string[]> {
  return checkAll(expected, 16, async (want) => {
    const { Item: item } = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: `NTOKEN#${want.tokenId}`, sk: 'NTOKEN' }, ConsistentRead: true }),
    );
    if (!item) return [`${want.tokenId}: missing`];
    const problems: string[] = [];
    if (item.state !== want.state) problems.push(`${want.tokenId}: state ${String(item.state)}, expected ${want.state}`);
    if (item.lastUpdateTimestamp !== want.lastUpdateTimestamp)
      problems.push(`${want.tokenId}: lastUpdateTimestamp ${String(item.lastUpdateTimestamp)}, expected ${want.lastUpdateTimestamp}`);
    if (item.tokenLastDigits !== want.tokenLastDigits)
      problems.push(`${want.tokenId}: tokenLastDigits ${String(item.tokenLastDigits)}, expected ${want.tokenLastDigits}`);
    return problems;
  });
}

/** LCM: every operation final with the expected status, and its token in the state it asked for. */
export function verifyOperations(
  client: DynamoDBDocumentClient,
  tableName: string,
  operations: readonly { operationId: string; virtualCardId: string; state: string }[],
): Promise<string[]> {
  return checkAll(operations, 16, async (op) => {
    const [{ Item: operation }, { Item: token }] = await Promise.all([
      client.send(new GetCommand({ TableName: tableName, Key: { pk: `OP#${op.operationId}`, sk: 'OP' }, ConsistentRead: true })),
      client.send(new GetCommand({ TableName: tableName, Key: { pk: `TOKEN#${op.virtualCardId}`, sk: 'TOKEN' }, ConsistentRead: true })),
    ]);
    const problems: string[] = [];
    if (operation?.status !== 'SUCCEEDED') problems.push(`operation ${op.operationId}: status ${String(operation?.status)}, expected SUCCEEDED`);
    if (token?.state !== op.state) problems.push(`operation ${op.operationId}: token ${op.virtualCardId} ${String(token?.state)}, expected ${op.state}`);
    return problems;
  });
}

/** Operations not yet final (the sparse open-operations index of lambdas/adapters/dynamodb-operation-store.ts). */
export async function openOperations(client: DynamoDBDocumentClient, tableName: string): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: TABLE.globalIndexes[0].name,
        KeyConditionExpression: '#pk = :open',
        ExpressionAttributeNames: { '#pk': TABLE.globalIndexes[0].partitionKey },
        ExpressionAttributeValues: { ':open': OPEN_OPERATIONS },
        Select: 'COUNT',
        ExclusiveStartKey: start,
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
}

/**
 * Which callback produced each token version (events out: a token event names its token and `sequence`, the
 * version its write produced): `<virtualCardId>#<version>` → the callback's identity (bench/protocol.ts
 * callbackKey), read from the history items (`seq` = EVT#<version>, and the callback's dedupe fields).
 */
export async function callbacksByVersion(client: DynamoDBDocumentClient, tableName: string, virtualCardIds: readonly string[]): Promise<Map<string, string>> {
  const byVersion = new Map<string, string>();
  await checkAll(virtualCardIds, 16, async (virtualCardId) => {
    for (const item of await queryPartition(client, tableName, `TOKEN#${virtualCardId}`)) {
      const seq = /^EVT#(\d{10})$/.exec(String(item.seq ?? ''));
      if (!String(item.sk).startsWith('EVT#') || !seq) continue; // recorded before the token existed: no version
      byVersion.set(`${virtualCardId}#${Number(seq[1])}`, callbackKey({ ...item, errorCode: item.errorCode ?? null }));
    }
    return [];
  });
  return byVersion;
}
