import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbOperationStore } from '../adapters/dynamodb-operation-store';
import { DynamoDbTokenStore } from '../adapters/dynamodb-token-store';
import { SqsSubmissionQueue, sqsClient } from '../adapters/sqs-queue';
import { callerOf } from '../http/caller';
import { AGENT_MAY_NOT_DELETE, mayRequest, requestedBy } from '../domain/console-access';
import { forbidden } from '../http/errors';
import { defineHandler } from '../http/define-routes';
import { notFound } from '../domain/errors';
import { operationView } from '../domain/operation';
import { logger, metrics, MetricUnit } from '../observability';
import { requestOperation } from '../use-cases/request-operation';
import { spec } from './lcm-operations.spec';
import { traceClient } from '../tracing';

const location = (operationId: string) => ({ location: `/v1/lcm-operations/${operationId}` });

/** The issuer back office's LCM API: request an operation, read it. */
export const handler = defineHandler(
  spec,
  (env) => {
    const client = documentClient(traceClient);
    return {
      tokens: new DynamoDbTokenStore(client, { tableName: env.TABLE_NAME }),
      operations: new DynamoDbOperationStore(client, env.TABLE_NAME),
      queue: new SqsSubmissionQueue(sqsClient(traceClient), env.D1_REQUESTS_QUEUE_URL),
      now: () => new Date(),
      agentRoleName: env.CONSOLE_AGENT_ROLE_NAME,
    };
  },
  {
    createOperation: {
      handle: async ({ headers, body, event }, deps) => {
        const caller = callerOf(event);
        // Before anything is read or written: IAM lets agents call the route, the body's action is ours to refuse.
        if (!mayRequest(body.action, caller, deps.agentRoleName)) throw forbidden(AGENT_MAY_NOT_DELETE);
        const result = await requestOperation(deps, body, headers['idempotency-key'], { requestedBy: requestedBy(caller) });
        const op = result.operation;
        if (result.created) {
          metrics.addMetric('OperationsRequested', MetricUnit.Count, 1);
          logger.info('operation requested', {
            operationId: op.operationId,
            action: op.action,
            scope: op.scope,
            issuerCardRefId: op.issuerCardRefId,
            virtualCardId: op.virtualCardId,
          });
        }
        return { status: result.created ? 202 : 200, body: operationView(op), headers: location(op.operationId) };
      },
    },
    getOperation: {
      handle: async ({ path }, { operations }) => {
        const op = await operations.get(path.operationId);
        if (!op) throw notFound('operation');
        return { status: 200, body: operationView(op) };
      },
    },
  },
);
