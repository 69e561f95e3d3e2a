import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { EventType } from '../domain/events';
import type { Subscription } from '../ports/events';
import type { NewSubscription, SigningSecrets, SubscriptionStore } from '../ports/subscriptions';

/**
 * Item layout (single table):
 *   subscription   pk=SUBSCRIPTION   sk=SUB#<subscriptionId>   url, eventTypes, description, createdAt,
 *                                                               sealedSecret, previousSealedSecret?, previousSecretExpiresAt?
 * One partition holds every subscription, so listing them (the publisher does it for every event batch) is one
 * Query; a customer has a handful, not thousands. `entity: SUBSCRIPTION` tells the stream publisher the write is
 * none of its business. Secrets are stored sealed only (the vault's envelope, bound to the subscription id).
 */
const PARTITION = 'SUBSCRIPTION';
const subscriptionKey = (subscriptionId: string) => ({ pk: PARTITION, sk: `SUB#${subscriptionId}` });

function fromItem(item: Record<string, unknown>): Subscription {
  return {
    subscriptionId: item.subscriptionId as string,
    url: item.url as string,
    eventTypes: (item.eventTypes as EventType[] | undefined) ?? [],
    description: (item.description as string | null | undefined) ?? null,
    createdAt: item.createdAt as string,
  };
}

const isConditionFailure = (err: unknown): boolean =>
  err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException';

export class DynamoDbSubscriptionStore implements SubscriptionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(subscription: NewSubscription): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...subscriptionKey(subscription.subscriptionId), entity: 'SUBSCRIPTION', ...subscription },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  }

  async get(subscriptionId: string): Promise<Subscription | null> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: subscriptionKey(subscriptionId), ConsistentRead: true }));
    return Item ? fromItem(Item) : null;
  }

  async list(): Promise<Subscription[]> {
    const subscriptions: Subscription[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
          ExpressionAttributeValues: { ':pk': PARTITION, ':sub': 'SUB#' },
          // No secrets leave the table on this path, sealed or not.
          ProjectionExpression: 'subscriptionId, #url, eventTypes, description, createdAt',
          ExpressionAttributeNames: { '#url': 'url' },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      subscriptions.push(...(page.Items ?? []).map(fromItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return subscriptions.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.subscriptionId.localeCompare(b.subscriptionId));
  }

  async delete(subscriptionId: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: subscriptionKey(subscriptionId), ConditionExpression: 'attribute_exists(pk)' }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async rotateSecret(subscriptionId: string, sealedSecret: string, previousSecretExpiresAt: string): Promise<boolean> {
    try {
      // Right-hand operands read the item as it was before this update: the current secret becomes the previous one.
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: subscriptionKey(subscriptionId),
          UpdateExpression: 'SET previousSealedSecret = sealedSecret, sealedSecret = :new, previousSecretExpiresAt = :expires',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':new': sealedSecret, ':expires': previousSecretExpiresAt },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async getSigningSecrets(subscriptionId: string, now: Date): Promise<SigningSecrets | null> {
    const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: subscriptionKey(subscriptionId), ConsistentRead: true }));
    if (!Item) return null;
    const sealed = [Item.sealedSecret as string];
    const previous = Item.previousSealedSecret as string | undefined;
    const expiresAt = Item.previousSecretExpiresAt as string | undefined;
    if (previous !== undefined && expiresAt !== undefined && Date.parse(expiresAt) > now.getTime()) sealed.push(previous);
    return { subscription: fromItem(Item), sealed };
  }
}
