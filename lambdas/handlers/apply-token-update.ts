import type { SQSRecord } from 'aws-lambda';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbNetworkTokenStore } from '../adapters/dynamodb-network-token-store';
import { defineHandler } from '../sqs/define-consumer';
import { tokenUpdateMessage } from '../domain/messages';
import { logger, metrics, MetricUnit } from '../observability';
import { processTokenUpdate } from '../use-cases/process-token-update';
import { spec } from './apply-token-update.spec';
import { UNTRACED } from '../adapters/client-tracing';

const OUTCOME_METRIC = { APPLIED: 'TokenUpdatesApplied', DUPLICATE: 'TokenUpdatesDuplicate', STALE: 'TokenUpdatesStale' } as const;

type Deps = { store: DynamoDbNetworkTokenStore };

async function applyRecord(record: SQSRecord, deps: Deps): Promise<void> {
  const update = tokenUpdateMessage.parse(JSON.parse(record.body));
  const decision = await processTokenUpdate(deps, update);
  metrics.addMetric(OUTCOME_METRIC[decision.outcome], MetricUnit.Count, 1);
  if (decision.dropTokenPan) metrics.addMetric('TokenPansDropped', MetricUnit.Count, 1);
  // DEBUG: the stored token is the record and the outcome metrics count them; one line per update is the
  // consumer's largest cost after the SDK. A dropped token PAN is worth a line (INFO).
  const log = decision.dropTokenPan ? logger.info.bind(logger) : logger.debug.bind(logger);
  log('token update processed', {
    correlationId: update.correlationId,
    tokenId: update.tokenId,
    outcome: decision.outcome,
    tokenPanDropped: decision.dropTokenPan,
  });
}

/**
 * SQS consumer of token-updates: each update applied at most once and never over a newer one.
 * Untraced clients (UNTRACED), as on the whole hot path: why in notify-virtual-card-change.ts.
 */
export const handler = defineHandler(spec, (env): Deps => ({ store: new DynamoDbNetworkTokenStore(documentClient(UNTRACED), env.TABLE_NAME) }), applyRecord);
