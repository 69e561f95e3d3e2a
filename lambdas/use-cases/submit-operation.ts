import { recordSubmission, retryDelaySeconds, shouldSubmit, type SubmissionOutcome } from '../domain/operation';
import { isThrottle, type PaceLane } from '../domain/d1-pace';
import type { D1IssuerGateway } from '../ports/d1-issuer';
import type { D1Pacer } from '../ports/d1-pacer';
import type { SubmissionQueue } from '../ports/queues';
import type { OperationStore } from '../ports/operation-store';

export interface SubmitDeps {
  operations: OperationStore;
  d1: D1IssuerGateway;
  /** The lane's own queue: retries and deferred attempts of an operation stay on the lane it came from. */
  queue: SubmissionQueue;
  pacer: D1Pacer;
  lane: PaceLane;
  maxAttempts: number;
  baseDelayMs: number;
  random: () => number;
  now: () => Date;
}

export type SubmitResult =
  | { kind: 'unknown-operation' }
  | { kind: 'skipped' }
  /** No pace slot was near: the same attempt is back on the queue, delayed; D1 was not called. */
  | { kind: 'deferred'; delaySeconds: number }
  | ({ kind: 'called' } & SubmissionOutcome);

const MAX_CONFLICT_RETRIES = 8;

/**
 * One attempt of `updateCardState` for an operation (DESIGN §4): always the operation's correlation id; transient
 * answers schedule the next attempt as a new delayed message; the answer is recorded on the operation's version so
 * a callback that arrived meanwhile is never undone (rule 8).
 *
 * The next attempt is enqueued *before* the answer is saved: a crash in between redelivers this attempt (one more
 * call with the same correlation id, whose callbacks dedupe) rather than losing the retry chain.
 *
 * Every call first takes a slot of the shared D1 pace (DESIGN §9); a 429/503 slows the pace for every consumer and
 * is itself retried like any transient answer.
 *
 * (primary adapter) SQS consumer → this use case → (secondary adapters) D1 HTTP, DynamoDB (operations, pace), SQS
 */
export async function submitOperation(deps: SubmitDeps, message: { operationId: string; attempt: number }): Promise<SubmitResult> {
  let operation = await deps.operations.get(message.operationId);
  if (!operation) return { kind: 'unknown-operation' };
  if (shouldSubmit(operation, message.attempt).kind === 'skip') return { kind: 'skipped' };

  // Right before the call, so a skipped attempt never spends D1's budget.
  const grant = await deps.pacer.acquire(deps.lane);
  if (grant.kind === 'later') {
    // Not an attempt: same attempt number, same correlation id, only later.
    await deps.queue.submit({ operationId: operation.operationId, attempt: message.attempt }, grant.delaySeconds);
    return { kind: 'deferred', delaySeconds: grant.delaySeconds };
  }
  const answer = await deps.d1.updateCardState({
    correlationId: operation.correlationId,
    issuerCardRefId: operation.issuerCardRefId,
    virtualCardId: operation.virtualCardId ?? undefined,
    action: operation.action,
    reason: operation.reason ?? undefined,
  });

  if (answer.kind === 'http-error' && isThrottle(answer.status)) await deps.pacer.throttled();

  let enqueued = false;
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const outcome = recordSubmission(operation, message.attempt, answer, deps.maxAttempts, deps.now());
    if (outcome.retryAttempt !== null && !enqueued) {
      await deps.queue.submit(
        { operationId: operation.operationId, attempt: outcome.retryAttempt },
        retryDelaySeconds(message.attempt, deps.baseDelayMs, deps.random()),
      );
      enqueued = true;
    }
    if ((await deps.operations.save(outcome.operation, operation)) === 'SAVED') return { kind: 'called', ...outcome };
    const fresh = await deps.operations.get(message.operationId);
    if (!fresh) return { kind: 'unknown-operation' };
    operation = fresh;
  }
  throw new Error(`operation ${message.operationId} kept changing while recording attempt ${message.attempt}`);
}
