import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { logger, metrics } from '../observability';

/**
 * The table-stream consumer: records processed one after the other, in stream order, stopping at the first
 * failure and reporting it (ReportBatchItemFailures), so Lambda retries from that record and everything after it.
 *
 * Written here rather than with Powertools' BatchProcessor: that processor goes on past a failed record and
 * reports every failure, so a later change of the same item would be published before an earlier one that
 * failed; stopping at the first failure is what keeps the events of one token in order (DESIGN §8).
 */
export function tableStreamConsumer(
  processRecord: (record: DynamoDBRecord) => Promise<void>,
): (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse> {
  return async (event, context) => {
    if (context) logger.addContext(context);
    try {
      for (const record of event.Records) {
        try {
          await processRecord(record);
        } catch (err) {
          const sequenceNumber = record.dynamodb?.SequenceNumber;
          // Without a sequence number there is nothing to retry from: fail the whole batch rather than skip it.
          if (!sequenceNumber) throw err;
          logger.error('stream record failed; it and every later record of the batch are retried', {
            sequenceNumber,
            eventName: record.eventName,
            error: err instanceof Error ? err.name : 'unknown',
            message: err instanceof Error ? err.message : String(err),
          });
          return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
        }
      }
      return { batchItemFailures: [] };
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
