import type { SQSRecord } from 'aws-lambda';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbTokenStore } from '../adapters/dynamodb-token-store';
import { loadEnv } from '../config/env';
import { virtualCardChangeMessage } from '../domain/schemas';
import { logger, metrics, MetricUnit } from '../observability';
import { sqsConsumer } from '../sqs/consumer';
import { applyVirtualCardChangeUseCase } from '../use-cases/apply-virtual-card-change';

const env = loadEnv(['TABLE_NAME', 'HISTORY_RETENTION_DAYS']);
const client = documentClient();
const store = new DynamoDbTokenStore(client, { tableName: env.TABLE_NAME, historyRetentionDays: env.HISTORY_RETENTION_DAYS });

const OUTCOME_METRIC = {
  APPLIED: 'CallbacksApplied',
  SUPERSEDED: 'CallbacksSuperseded',
  FAILED: 'CallbacksFailed',
  IGNORED: 'CallbacksIgnored',
} as const;

async function applyRecord(record: SQSRecord): Promise<void> {
  // A message that does not parse is not retried into success: it fails until the DLQ takes it (alarmed).
  const change = virtualCardChangeMessage.parse(JSON.parse(record.body));
  const result = await applyVirtualCardChangeUseCase({ store }, change);
  const keys = { correlationId: change.correlationId, virtualCardId: change.virtualCardId, action: change.action };
  if (result.duplicate) {
    metrics.addMetric('CallbacksDuplicate', MetricUnit.Count, 1);
    logger.info('duplicate callback ignored', keys);
    return;
  }
  metrics.addMetric(OUTCOME_METRIC[result.outcome], MetricUnit.Count, 1);
  logger.info('callback applied', {
    ...keys,
    outcome: result.outcome,
    reason: result.reason,
    stateAfter: result.event.stateAfter,
    ...(result.operation ? { operationId: result.operation.operationId, operationStatus: result.operation.status } : {}),
  });
}

/** SQS consumer of the issuer-callbacks queue: each record applied once; failures reported per record. */
export const handler = sqsConsumer(applyRecord);
