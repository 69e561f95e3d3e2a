import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbNetworkTokenStore } from '../adapters/dynamodb-network-token-store';
import { loadEnv } from '../config/env';
import { tokenIdPath } from '../domain/schemas';
import { httpRoute } from '../http/route';
import { readNetworkToken } from '../use-cases/network-token-credentials';

const env = loadEnv(['TABLE_NAME']);
const store = new DynamoDbNetworkTokenStore(documentClient(), env.TABLE_NAME);

/** `GET /v1/network-tokens/{tokenId}`: the token's data and whether a PAN is stored — never the PAN. */
export const handler = httpRoute({ name: 'getNetworkToken', path: tokenIdPath }, async ({ path }) => ({
  status: 200,
  body: await readNetworkToken({ store }, path.tokenId),
}));
