import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbTokenStore } from '../adapters/dynamodb-token-store';
import { defineHandler } from '../http/define-routes';
import { paged } from '../http/paged';
import { readCardTokens, readToken, readTokenHistory } from '../use-cases/read-tokens';
import { spec } from './token-queries.spec';
import { traceClient } from '../tracing';

/** The back office's read routes, one Lambda (they share the store and their cold start). */
export const handler = defineHandler(spec, (env) => ({ store: new DynamoDbTokenStore(documentClient(traceClient), { tableName: env.TABLE_NAME }) }), {
  getToken: { handle: async ({ path }, deps) => ({ status: 200, body: await readToken(deps, path.virtualCardId) }) },
  listCardTokens: { handle: async ({ path, query }, deps) => ({ status: 200, body: await paged(() => readCardTokens(deps, path.issuerCardRefId, query)) }) },
  getTokenHistory: { handle: async ({ path, query }, deps) => ({ status: 200, body: await paged(() => readTokenHistory(deps, path.virtualCardId, query)) }) },
});
