import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { logger, metrics } from '../observability';

/**
 * The service's SQS consumers, once: each record processed by `processRecord`, failures reported per record
 * (ReportBatchItemFailures), Powertools logger context, metrics flushed when any were recorded.
 *
 * The BatchProcessor holds one invocation's records and failures: a new one per invocation, so concurrent
 * invocations of a module (the local pollers run several) can never report each other's failures.
 */
export function sqsConsumer(processRecord: (record: SQSRecord) => Promise<void>): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return async (event, context) => {
    logger.addContext(context);
    try {
      return await processPartialResponse(event, processRecord, new BatchProcessor(EventType.SQS), { context });
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
