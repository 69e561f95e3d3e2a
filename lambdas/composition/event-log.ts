import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DomainError } from '../domain/errors';
import type { EventLog } from '../ports/events';

/**
 * The event log the replay route reads. Interim: the DynamoDB event log adapter is built on another branch; until it
 * is merged, this answers 503 for a replay, so the route exists and says why it cannot work yet. After the merge it
 * is `new DynamoDbEventLog(client, options)`.
 */
export function eventLog(_client: DynamoDBDocumentClient, _options: { tableName: string; retentionDays: number }): EventLog {
  const unavailable = (): never => {
    throw new DomainError('UNAVAILABLE', 'the event log is not available in this build');
  };
  return { append: async () => unavailable(), list: async () => unavailable() };
}
