import type { SQSRecord } from 'aws-lambda';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbNetworkTokenStore } from '../adapters/dynamodb-network-token-store';
import { loadEnv } from '../config/env';
import { tokenUpdateMessage } from '../domain/schemas';
import { logger, metrics, MetricUnit } from '../observability';
import { sqsConsumer } from '../sqs/consumer';
import { applyTokenUpdateUseCase } from '../use-cases/token-updates';

const env = loadEnv(['TABLE_NAME']);
const store = new DynamoDbNetworkTokenStore(documentClient(), env.TABLE_NAME);

const OUTCOME_METRIC = { APPLIED: 'TokenUpdatesApplied', DUPLICATE: 'TokenUpdatesDuplicate', STALE: 'TokenUpdatesStale' } as const;

async function applyRecord(record: SQSRecord): Promise<void> {
  const update = tokenUpdateMessage.parse(JSON.parse(record.body));
  const decision = await applyTokenUpdateUseCase({ store }, update);
  metrics.addMetric(OUTCOME_METRIC[decision.outcome], MetricUnit.Count, 1);
  if (decision.dropTokenPan) metrics.addMetric('TokenPansDropped', MetricUnit.Count, 1);
  logger.info('token update processed', { correlationId: update.correlationId, tokenId: update.tokenId, outcome: decision.outcome, tokenPanDropped: decision.dropTokenPan });
}

/** SQS consumer of token-updates: each update applied at most once and never over a newer one. */
export const handler = sqsConsumer(applyRecord);
