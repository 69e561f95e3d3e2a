import type { SQSRecord } from 'aws-lambda';
import { D1IssuerClient } from '../adapters/d1-issuer-client';
import { d1ClientTls, d1Fetch } from '../adapters/d1-transport';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbOperationStore } from '../adapters/dynamodb-operation-store';
import { SqsSubmissionQueue, sqsClient } from '../adapters/sqs-queue';
import type { Env } from '../config/env';
import { submissionMessage } from '../domain/messages';
import { logger, metrics, MetricUnit } from '../observability';
import { submitOperation } from '../use-cases/submit-operation';
import { traceClient } from '../tracing';

/**
 * One updateCardState attempt per message, as the d1-submitter consumes d1-requests and the bulk lane's
 * submitter d1-bulk-requests: the same code, each lane's retries queued back on its own queue (`queueUrl`).
 */
export type SubmitterEnv = Pick<
  Env,
  'TABLE_NAME' | 'D1_ISSUER_BASE_URL' | 'ISSUER_ID' | 'D1_TIMEOUT_MS' | 'D1_RETRY_BASE_DELAY_MS' | 'D1_MAX_ATTEMPTS' | 'D1_CLIENT_CERT' | 'D1_CLIENT_KEY'
>;

export function submitterDeps(env: SubmitterEnv, queueUrl: string) {
  return {
    operations: new DynamoDbOperationStore(documentClient(traceClient), env.TABLE_NAME),
    d1: new D1IssuerClient({ baseUrl: env.D1_ISSUER_BASE_URL, issuerId: env.ISSUER_ID, timeoutMs: env.D1_TIMEOUT_MS, fetch: d1Fetch(d1ClientTls(env)) }),
    queue: new SqsSubmissionQueue(sqsClient(traceClient), queueUrl),
    maxAttempts: env.D1_MAX_ATTEMPTS,
    baseDelayMs: env.D1_RETRY_BASE_DELAY_MS,
    random: Math.random,
    now: () => new Date(),
  };
}

const EVENT_METRIC = {
  SUBMITTED: 'OperationsSubmitted',
  RETRY: 'D1Retries',
  D1_REJECTED: 'OperationsRejectedByD1',
  D1_UNAVAILABLE: 'D1Unavailable',
  LATE_ANSWER: 'D1LateAnswers',
} as const;

export async function submitRecord(record: SQSRecord, deps: ReturnType<typeof submitterDeps>): Promise<void> {
  const message = submissionMessage.parse(JSON.parse(record.body));
  const result = await submitOperation(deps, message);
  const keys = { operationId: message.operationId, attempt: message.attempt };
  if (result.kind !== 'called') {
    logger.info(result.kind === 'skipped' ? 'attempt skipped: operation no longer pending' : 'attempt for an unknown operation dropped', keys);
    return;
  }
  metrics.addMetric('D1Attempts', MetricUnit.Count, 1);
  metrics.addMetric(EVENT_METRIC[result.event], MetricUnit.Count, 1);
  const log = result.event === 'D1_UNAVAILABLE' || result.event === 'D1_REJECTED' ? logger.warn.bind(logger) : logger.info.bind(logger);
  log('updateCardState attempt recorded', { ...keys, event: result.event, status: result.operation.status, failure: result.operation.failure });
}
