import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { EventType } from '../domain/events';
import type { Subscription, SubscriptionDirectory } from '../ports/events';

/** Subscriptions as the publisher reads them: pk=SUBSCRIPTION, sk=SUB#<subscriptionId> (one consistent Query). */
export class DynamoDbSubscriptionDirectory implements SubscriptionDirectory {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(): Promise<Subscription[]> {
    const subscriptions: Subscription[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
          ExpressionAttributeValues: { ':pk': 'SUBSCRIPTION', ':sub': 'SUB#' },
          ConsistentRead: true,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      for (const item of result.Items ?? []) {
        subscriptions.push({
          subscriptionId: String(item.subscriptionId),
          url: String(item.url),
          eventTypes: (item.eventTypes ?? []) as EventType[],
          description: (item.description as string | undefined) ?? null,
          createdAt: String(item.createdAt),
        });
      }
      exclusiveStartKey = result.LastEvaluatedKey;
    } while (exclusiveStartKey);
    return subscriptions;
  }
}
