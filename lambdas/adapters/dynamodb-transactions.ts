/**
 * Transactions of several stores (operation creation with a job card's start, settlements with the save or the
 * callback that makes an operation final): the one retry rule they share.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';

/** A cancelled transaction's reasons: some item was held by another transaction, and no condition failed. */
export const lostARaceOnly = (codes: readonly (string | undefined)[]): boolean =>
  codes.includes('TransactionConflict') && codes.every((code) => code === 'TransactionConflict' || code === 'None');

/** Attempts of a transaction that only lost a race (TransactionConflict) before the conflict is the caller's. */
const CONFLICT_ATTEMPTS = 5;

/**
 * A transaction cancelled only because another one held one of its items (a job's counts item, updated by every
 * card start of the job) wrote nothing: send it again after a short jittered pause. Any other cancellation, a
 * condition that failed among them, is the caller's to read.
 */
export async function sendRetryingConflicts(client: DynamoDBDocumentClient, command: TransactWriteCommand): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(command);
      return;
    } catch (err) {
      const reasons = err instanceof TransactionCanceledException ? (err.CancellationReasons ?? []) : [];
      if (!lostARaceOnly(reasons.map((r) => r.Code)) || attempt >= CONFLICT_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
    }
  }
}
