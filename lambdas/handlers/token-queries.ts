import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbTokenStore } from '../adapters/dynamodb-token-store';
import { defineHandler } from '../http/define-routes';
import { validationFailed } from '../http/errors';
import { InvalidPageToken } from '../ports/token-store';
import { readCardTokens, readToken, readTokenHistory } from '../use-cases/read-tokens';
import { spec } from './token-queries.spec';
import { traceClient } from '../tracing';

/** A page token we did not issue is the caller's mistake: 400 on `query.nextToken`. */
async function paged<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof InvalidPageToken) throw validationFailed([{ path: 'query.nextToken', message: err.message }]);
    throw err;
  }
}

/** The back office's read routes, one Lambda (they share the store and their cold start). */
export const handler = defineHandler(spec, (env) => ({ store: new DynamoDbTokenStore(documentClient(traceClient), { tableName: env.TABLE_NAME }) }), {
  getToken: { handle: async ({ path }, deps) => ({ status: 200, body: await readToken(deps, path.virtualCardId) }) },
  listCardTokens: { handle: async ({ path, query }, deps) => ({ status: 200, body: await paged(() => readCardTokens(deps, path.issuerCardRefId, query)) }) },
  getTokenHistory: { handle: async ({ path, query }, deps) => ({ status: 200, body: await paged(() => readTokenHistory(deps, path.virtualCardId, query)) }) },
});
