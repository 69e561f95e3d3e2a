import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Page, PageRequest } from '../ports/token-store';
import { TABLE } from '../resources';
import { batchGetInOrder, tableKeyOf } from './dynamodb-batch-get';
import { decodePageToken, encodePageToken } from './pagination';

const GSI = TABLE.globalIndexes[0];
const KEY_NAMES = [TABLE.partitionKey, TABLE.sortKey, GSI.partitionKey, GSI.sortKey];

/**
 * One page of a gsi1 partition (card tokens, a job's cards of one status): the index holds keys only, so it pages
 * through the index, then reads the items themselves (consistently) by key, in index order. nextToken is the last
 * entry's key, and only a token of this partition is accepted back.
 */
export async function indexPage(
  client: DynamoDBDocumentClient,
  tableName: string,
  partition: string,
  page: PageRequest,
): Promise<Page<Record<string, unknown>>> {
  const result = await client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: GSI.name,
      KeyConditionExpression: '#p = :p',
      ExpressionAttributeNames: { '#p': GSI.partitionKey },
      ExpressionAttributeValues: { ':p': partition },
      ExclusiveStartKey: decodePageToken(page.nextToken, { attribute: GSI.partitionKey, value: partition }, KEY_NAMES),
      Limit: page.limit + 1, // one more than asked, so nextToken is null exactly on the last page
    }),
  );
  const entries = result.Items ?? [];
  const pageEntries = entries.slice(0, page.limit);
  const last = pageEntries[pageEntries.length - 1];
  return {
    items: await batchGetInOrder(client, tableName, pageEntries.map(tableKeyOf)),
    nextToken: entries.length > page.limit && last ? encodePageToken(Object.fromEntries(KEY_NAMES.map((k) => [k, String(last[k])]))) : null,
  };
}
