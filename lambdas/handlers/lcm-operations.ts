import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbOperationStore } from '../adapters/dynamodb-operation-store';
import { DynamoDbTokenStore } from '../adapters/dynamodb-token-store';
import { SqsSubmissionQueue, sqsClient } from '../adapters/sqs-queue';
import { loadEnv } from '../config/env';
import { notFound } from '../domain/errors';
import { operationView } from '../domain/operation';
import { createOperationBody, createOperationHeaders, operationIdPath } from '../domain/schemas';
import { httpRoute, routeByKey } from '../http/route';
import { logger, metrics, MetricUnit } from '../observability';
import { requestOperation } from '../use-cases/request-operation';

const env = loadEnv(['TABLE_NAME', 'D1_REQUESTS_QUEUE_URL']);
const client = documentClient();
const operations = new DynamoDbOperationStore(client, env.TABLE_NAME);
const deps = {
  tokens: new DynamoDbTokenStore(client, { tableName: env.TABLE_NAME }),
  operations,
  queue: new SqsSubmissionQueue(sqsClient(), env.D1_REQUESTS_QUEUE_URL),
  now: () => new Date(),
};

const location = (operationId: string) => ({ location: `/v1/lcm-operations/${operationId}` });

/** The issuer back office's LCM API: request an operation, read it. */
export const handler = routeByKey({
  'POST /v1/lcm-operations': httpRoute(
    { name: 'createOperation', headers: createOperationHeaders, body: createOperationBody },
    async ({ headers, body }) => {
      const result = await requestOperation(deps, body, headers['idempotency-key']);
      const op = result.operation;
      if (result.created) {
        metrics.addMetric('OperationsRequested', MetricUnit.Count, 1);
        logger.info('operation requested', { operationId: op.operationId, action: op.action, scope: op.scope, issuerCardRefId: op.issuerCardRefId, virtualCardId: op.virtualCardId });
      }
      return { status: result.created ? 202 : 200, body: operationView(op), headers: location(op.operationId) };
    },
  ),
  'GET /v1/lcm-operations/{operationId}': httpRoute({ name: 'getOperation', path: operationIdPath }, async ({ path }) => {
    const op = await operations.get(path.operationId);
    if (!op) throw notFound('operation');
    return { status: 200, body: operationView(op) };
  }),
});
