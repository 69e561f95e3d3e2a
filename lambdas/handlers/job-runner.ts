import type { SQSRecord } from 'aws-lambda';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbJobStore } from '../adapters/dynamodb-job-store';
import { DynamoDbOperationStore } from '../adapters/dynamodb-operation-store';
import { DynamoDbTokenStore } from '../adapters/dynamodb-token-store';
import { SqsJobTickQueue, SqsSubmissionQueue, sqsClient } from '../adapters/sqs-queue';
import type { SpecEnv } from '../define-handler-core';
import { jobTickMessage } from '../domain/messages';
import { logger, metrics, MetricUnit } from '../observability';
import { defineHandler } from '../sqs/define-consumer';
import { runJobTick, type TickDeps } from '../use-cases/run-job-tick';
import { spec } from './job-runner.spec';
import { traceClient } from '../tracing';

function compose(env: SpecEnv<typeof spec>): TickDeps {
  const client = documentClient(traceClient);
  const sqs = sqsClient(traceClient);
  const now = () => new Date();
  return {
    jobs: new DynamoDbJobStore(client, env.TABLE_NAME),
    ticks: new SqsJobTickQueue(sqs, env.LCM_JOBS_QUEUE_URL),
    // The request path of POST /v1/lcm-operations, its first attempts sent to the bulk lane.
    request: {
      tokens: new DynamoDbTokenStore(client, { tableName: env.TABLE_NAME }),
      operations: new DynamoDbOperationStore(client, env.TABLE_NAME),
      queue: new SqsSubmissionQueue(sqs, env.D1_BULK_REQUESTS_QUEUE_URL),
      now,
    },
    maxTps: env.D1_MAX_TPS,
    now,
  };
}

/** Redelivered (a consumer failed or crashed on it before): a claim found made means the next tick may be missing. */
export const redelivered = (record: SQSRecord): boolean => Number(record.attributes.ApproximateReceiveCount ?? '1') > 1;

export async function tickRecord(record: SQSRecord, deps: TickDeps): Promise<void> {
  const tick = jobTickMessage.parse(JSON.parse(record.body));
  const result = await runJobTick(deps, tick, redelivered(record));
  if (result.kind !== 'ticked') {
    logger.info(result.kind === 'resumed' ? 'job tick redelivered: next tick queued again' : 'job tick dropped: already claimed', tick);
    return;
  }
  if (result.started > 0) metrics.addMetric('JobCardsStarted', MetricUnit.Count, result.started);
  if (result.settled > 0) metrics.addMetric('JobCardsSettled', MetricUnit.Count, result.settled);
  if (result.requeued > 0) metrics.addMetric('JobAttemptsRequeued', MetricUnit.Count, result.requeued);
  if (result.stalled) {
    metrics.addMetric('JobsStalled', MetricUnit.Count, 1);
    logger.warn('job RUNNING with cards left, none QUEUED and nothing in flight', tick);
  }
  if (result.next === 'COMPLETE' || result.next === 'CLOSE') logger.info(result.next === 'COMPLETE' ? 'job completed' : 'cancelled job closed', tick);
}

/** SQS consumer of lcm-jobs: one tick of a bulk job's chain per message. */
export const handler = defineHandler(spec, compose, tickRecord);
