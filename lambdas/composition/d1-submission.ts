import type { SQSRecord } from 'aws-lambda';
import { D1IssuerClient } from '../adapters/d1-issuer-client';
import { d1ClientTls, d1Fetch } from '../adapters/d1-transport';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbD1Pacer } from '../adapters/dynamodb-d1-pacer';
import { DynamoDbOperationStore } from '../adapters/dynamodb-operation-store';
import { SqsSubmissionQueue, sqsClient } from '../adapters/sqs-queue';
import type { Env } from '../config/env';
import type { PaceLane } from '../domain/d1-pace';
import { submissionMessage } from '../domain/messages';
import type { SUBMITTER_ENV } from '../handlers/d1-submitter.spec';
import { logger, metrics, MetricUnit } from '../observability';
import { submitOperation, type SubmitDeps } from '../use-cases/submit-operation';
import { traceClient } from '../tracing';

/**
 * Shared by the two submitters, d1-submitter (interactive lane, d1-requests) and d1-bulk-submitter (bulk lane,
 * d1-bulk-requests): two Lambdas, one wiring. Each re-enqueues on its own queue, so a bulk retry stays bulk.
 */
export function submitterDeps(env: Pick<Env, (typeof SUBMITTER_ENV)[number]>, lane: PaceLane, queueUrl: string): SubmitDeps {
  const client = documentClient(traceClient);
  return {
    operations: new DynamoDbOperationStore(client, env.TABLE_NAME),
    d1: new D1IssuerClient({ baseUrl: env.D1_ISSUER_BASE_URL, issuerId: env.ISSUER_ID, timeoutMs: env.D1_TIMEOUT_MS, fetch: d1Fetch(d1ClientTls(env)) }),
    queue: new SqsSubmissionQueue(sqsClient(traceClient), queueUrl),
    pacer: new DynamoDbD1Pacer(client, { tableName: env.TABLE_NAME, maxTps: env.D1_MAX_TPS }),
    lane,
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

export async function submitRecord(record: SQSRecord, deps: SubmitDeps): Promise<void> {
  const message = submissionMessage.parse(JSON.parse(record.body));
  const result = await submitOperation(deps, message);
  const keys = { operationId: message.operationId, attempt: message.attempt };
  if (result.kind === 'deferred') {
    // Cheap: one count, a debug line; the dashboard shows how often the budget was spent.
    metrics.addMetric('D1PaceWaits', MetricUnit.Count, 1);
    logger.debug('attempt deferred: no D1 pace slot near', { ...keys, lane: deps.lane, delaySeconds: result.delaySeconds });
    return;
  }
  if (result.kind !== 'called') {
    logger.info(result.kind === 'skipped' ? 'attempt skipped: operation no longer pending' : 'attempt for an unknown operation dropped', keys);
    return;
  }
  metrics.addMetric('D1Attempts', MetricUnit.Count, 1);
  metrics.addMetric(EVENT_METRIC[result.event], MetricUnit.Count, 1);
  const log = result.event === 'D1_UNAVAILABLE' || result.event === 'D1_REJECTED' ? logger.warn.bind(logger) : logger.info.bind(logger);
  log('updateCardState attempt recorded', { ...keys, event: result.event, status: result.operation.status, failure: result.operation.failure });
}
