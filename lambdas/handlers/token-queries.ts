import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbTokenStore } from '../adapters/dynamodb-token-store';
import { loadEnv } from '../config/env';
import { issuerCardRefIdPath, pageQuery, virtualCardIdPath } from '../domain/schemas';
import { validationFailed } from '../http/errors';
import { httpRoute, routeByKey } from '../http/route';
import { InvalidPageToken } from '../ports/token-store';
import { TokenQueries } from '../use-cases/token-queries';

const env = loadEnv(['TABLE_NAME']);
const queries = new TokenQueries(new DynamoDbTokenStore(documentClient(), { tableName: env.TABLE_NAME }));

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
export const handler = routeByKey({
  'GET /v1/tokens/{virtualCardId}': httpRoute({ name: 'getToken', path: virtualCardIdPath }, async ({ path }) => ({
    status: 200,
    body: await queries.token(path.virtualCardId),
  })),
  'GET /v1/cards/{issuerCardRefId}/tokens': httpRoute({ name: 'listCardTokens', path: issuerCardRefIdPath, query: pageQuery }, async ({ path, query }) => ({
    status: 200,
    body: await paged(() => queries.cardTokens(path.issuerCardRefId, query)),
  })),
  'GET /v1/tokens/{virtualCardId}/history': httpRoute({ name: 'getTokenHistory', path: virtualCardIdPath, query: pageQuery }, async ({ path, query }) => ({
    status: 200,
    body: await paged(() => queries.history(path.virtualCardId, query)),
  })),
});
