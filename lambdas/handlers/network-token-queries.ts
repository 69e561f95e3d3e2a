import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbNetworkTokenStore } from '../adapters/dynamodb-network-token-store';
import { defineHandler } from '../http/define-routes';
import { readNetworkToken } from '../use-cases/network-token-credentials';
import { spec } from './network-token-queries.spec';
import { traceClient } from '../tracing';

/** `GET /v1/network-tokens/{tokenId}`: the token's data and whether a PAN is stored — never the PAN. */
export const handler = defineHandler(spec, (env) => ({ store: new DynamoDbNetworkTokenStore(documentClient(traceClient), env.TABLE_NAME) }), {
  getNetworkToken: { handle: async ({ path }, deps) => ({ status: 200, body: await readNetworkToken(deps, path.tokenId) }) },
});
