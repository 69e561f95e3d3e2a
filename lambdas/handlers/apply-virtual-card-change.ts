import type { SQSRecord } from 'aws-lambda';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbTokenStore } from '../adapters/dynamodb-token-store';
import { defineHandler } from '../sqs/define-consumer';
import { virtualCardChangeMessage } from '../domain/messages';
import { logger, metrics, MetricUnit } from '../observability';
import { processVirtualCardChange } from '../use-cases/process-virtual-card-change';
import { spec } from './apply-virtual-card-change.spec';
import { UNTRACED } from '../adapters/client-tracing';

const OUTCOME_METRIC = {
  APPLIED: 'CallbacksApplied',
  SUPERSEDED: 'CallbacksSuperseded',
  FAILED: 'CallbacksFailed',
  IGNORED: 'CallbacksIgnored',
} as const;

type Deps = { store: DynamoDbTokenStore };

async function applyRecord(record: SQSRecord, deps: Deps): Promise<void> {
  // A message that does not parse is not retried into success: it fails until the DLQ takes it (alarmed).
  const change = virtualCardChangeMessage.parse(JSON.parse(record.body));
  const result = await processVirtualCardChange(deps, change);
  const keys = { correlationId: change.correlationId, virtualCardId: change.virtualCardId, action: change.action };
  if (result.duplicate) {
    metrics.addMetric('CallbacksDuplicate', MetricUnit.Count, 1);
    logger.debug('duplicate callback ignored', keys);
    return;
  }
  metrics.addMetric(OUTCOME_METRIC[result.outcome], MetricUnit.Count, 1);
  // Applied and superseded callbacks are in the token's history (the audit trail) and the metrics: a log line each
  // would be the consumer's largest cost after the SDK. A failed or ignored one is what an operator looks for.
  const log = result.outcome === 'APPLIED' || result.outcome === 'SUPERSEDED' ? logger.debug.bind(logger) : logger.info.bind(logger);
  log('callback applied', {
    ...keys,
    outcome: result.outcome,
    reason: result.reason,
    stateAfter: result.event.stateAfter,
    ...(result.operation ? { operationId: result.operation.operationId, operationStatus: result.operation.status } : {}),
  });
}

/**
 * SQS consumer of the issuer-callbacks queue: each record applied once; failures reported per record.
 * Untraced clients (UNTRACED), as on the whole hot path: why in notify-virtual-card-change.ts.
 */
export const handler = defineHandler(
  spec,
  (env): Deps => ({ store: new DynamoDbTokenStore(documentClient(UNTRACED), { tableName: env.TABLE_NAME, historyRetentionDays: env.HISTORY_RETENTION_DAYS }) }),
  applyRecord,
);
