import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { CommittedChange } from '../domain/events';
import { networkTokenFromItem, holdsCredentials } from './dynamodb-network-token-store';
import { fromItem as operationFromItem } from './dynamodb-operation-store';
import { recordedChangeOf, tokenFromItem } from './dynamodb-token-store';

type Image = Record<string, unknown>;

const imageOf = (image: Record<string, unknown> | undefined): Image | null =>
  // The Lambda event's AttributeValue type and the SDK's are the same wire shape.
  image ? unmarshall(image as Record<string, AttributeValue>) : null;

/**
 * One record of the table's stream as the committed change it is, in domain terms; null for items that publish
 * nothing (dedupe and history records, idempotency keys, the event log and subscriptions themselves). The item
 * layouts are the stores': each store's own mapper reads its images.
 */
export function committedChangeOf(record: DynamoDBRecord): CommittedChange | null {
  const before = imageOf(record.dynamodb?.OldImage);
  const after = imageOf(record.dynamodb?.NewImage);
  const entity = (after ?? before)?.entity;
  switch (entity) {
    case 'TOKEN':
      return { entity, before: before && tokenFromItem(before), after: after && tokenFromItem(after), recorded: after && recordedChangeOf(after) };
    case 'OPERATION':
      return { entity, before: before && operationFromItem(before), after: after && operationFromItem(after) };
    case 'NETWORK_TOKEN': {
      const view = (image: Image | null) => image && { ...networkTokenFromItem(image), credentialsSealed: holdsCredentials(image) };
      return { entity, before: view(before), after: view(after) };
    }
    default:
      return null;
  }
}
