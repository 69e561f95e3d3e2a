/**
 * The queues the runtime hands work to: SQS in AWS, fauxqs locally (adapters/sqs-queue.ts). A send resolves only
 * once the queue accepted the message, so a caller may acknowledge its own caller after it.
 * The operator's dead-letter port is not here: see ports/dead-letters.ts.
 */

/** The durable hand-off between a webhook and its apply consumer (issuer callbacks, token updates). */
export interface ChangeQueue<T> {
  send(message: T): Promise<void>;
}

/** The durable retry path toward D1: one SQS message per attempt, delayed by the backoff. */
export interface SubmissionQueue {
  submit(message: { operationId: string; attempt: number }, delaySeconds: number): Promise<void>;
}

/** The bulk jobs' tick chain (lcm-jobs): one message per generation, delayed to pace the job. */
export interface JobTickQueue {
  send(tick: { jobId: string; generation: number }, delaySeconds: number): Promise<void>;
}
