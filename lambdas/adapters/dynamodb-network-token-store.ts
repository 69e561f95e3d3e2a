import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NETWORK_TOKEN_DATA_FIELDS, type NetworkToken } from '../domain/network-token';
import type { NetworkTokenStore } from '../ports/network-tokens';

/**
 * Item layout (single table): pk=NTOKEN#<tokenId> sk=NTOKEN — the token's fields, `version`, and
 * `sealedCredentials` (envelope-encrypted token PAN + expiry) when stored. Written with UpdateItem so an update
 * never has to carry the sealed credentials to keep them.
 */
const key = (tokenId: string) => ({ pk: `NTOKEN#${tokenId}`, sk: 'NTOKEN' });

const FIELDS = ['tokenId', 'merchantId', ...NETWORK_TOKEN_DATA_FIELDS, 'updatedAt'] as const satisfies readonly (keyof NetworkToken)[];

/** The network token a stored item holds (also how the stream publisher reads the item's images). */
export function networkTokenFromItem(item: Record<string, unknown>): NetworkToken {
  const token = { ...Object.fromEntries(FIELDS.map((f) => [f, item[f] ?? null])), version: Number(item.version) } as NetworkToken;
  return { ...token, cardArt: typeof item.cardArt === 'string' ? (JSON.parse(item.cardArt) as Record<string, unknown>) : null };
}

/** Whether the item holds sealed credentials (a token PAN): the stream publisher sees them dropped. */
export const holdsCredentials = (item: Record<string, unknown>): boolean => typeof item.sealedCredentials === 'string';

export class DynamoDbNetworkTokenStore implements NetworkTokenStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(tokenId: string): Promise<NetworkToken | null> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: key(tokenId),
        ConsistentRead: true,
        ProjectionExpression: [...FIELDS, 'version'].map((f) => `#${f}`).join(', '),
        ExpressionAttributeNames: Object.fromEntries([...FIELDS, 'version'].map((f) => [`#${f}`, f])),
      }),
    );
    return result.Item ? networkTokenFromItem(result.Item) : null;
  }

  async applyUpdate(token: NetworkToken, expectedVersion: number | null, dropTokenPan: boolean): Promise<'SAVED' | 'CONFLICT'> {
    const names: Record<string, string> = { '#version': 'version', '#entity': 'entity' };
    const values: Record<string, unknown> = { ':version': (expectedVersion ?? 0) + 1, ':entity': 'NETWORK_TOKEN' };
    const sets = ['#version = :version', '#entity = :entity'];
    for (const field of FIELDS) {
      names[`#${field}`] = field;
      // Card art is D1's opaque object: kept as its JSON text, so any JSON (deep, empty keys, big numbers) round-trips.
      values[`:${field}`] = field === 'cardArt' ? (token.cardArt === null ? null : JSON.stringify(token.cardArt)) : token[field];
      sets.push(`#${field} = :${field}`);
    }
    let condition = 'attribute_not_exists(pk)';
    if (expectedVersion !== null) {
      condition = '#version = :expected';
      values[':expected'] = expectedVersion;
    }
    if (dropTokenPan) names['#sealed'] = 'sealedCredentials';
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(token.tokenId),
        UpdateExpression: `SET ${sets.join(', ')}${dropTokenPan ? ' REMOVE #sealed' : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async storeCredentials(tokenId: string, sealed: string, expectedVersion: number): Promise<'SAVED' | 'CONFLICT'> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: key(tokenId),
        UpdateExpression: 'SET #sealed = :sealed, #stored = :true, #version = :next',
        ConditionExpression: '#version = :expected AND (attribute_not_exists(#state) OR #state <> :deleted)',
        ExpressionAttributeNames: { '#sealed': 'sealedCredentials', '#stored': 'tokenPanStored', '#version': 'version', '#state': 'state' },
        ExpressionAttributeValues: { ':sealed': sealed, ':true': true, ':next': expectedVersion + 1, ':expected': expectedVersion, ':deleted': 'DELETED' },
      }),
    );
  }

  async getSealedCredentials(tokenId: string): Promise<string | null> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key(tokenId), ConsistentRead: true, ProjectionExpression: 'sealedCredentials' }),
    );
    const sealed = result.Item?.sealedCredentials;
    return typeof sealed === 'string' ? sealed : null;
  }

  private async conditional(command: UpdateCommand): Promise<'SAVED' | 'CONFLICT'> {
    try {
      await this.client.send(command);
      return 'SAVED';
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return 'CONFLICT';
      throw err;
    }
  }
}
