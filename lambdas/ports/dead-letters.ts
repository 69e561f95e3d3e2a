/**
 * A dead-letter queue as the operator sees it: scripts/dlq.ts → use-cases/redrive-dlq.ts → this port →
 * adapters/sqs-dead-letters.ts. Operator tooling only (no Lambda uses it), hence not in ports/queues.ts, which
 * holds the hand-offs the runtime depends on.
 */

export type QueueRef = { url: string; arn: string };

export interface QueueFacts {
  arn: string;
  /** The DLQ the queue's RedrivePolicy names (where SQS moves what its consumer keeps failing), if any. */
  deadLetterTargetArn: string | undefined;
  visible: number;
  inFlight: number;
  delayed: number;
}

/** A message of a DLQ. The body is here for the use case to summarise: never print it. */
export interface DeadLetter {
  messageId: string;
  body: string;
  /** SQS `ApproximateReceiveCount`: the source queue's receives plus the DLQ's. */
  receiveCount: number | null;
  /** ISO timestamps (`SentTimestamp`, `ApproximateFirstReceiveTimestamp`). */
  sentAt: string | null;
  firstReceivedAt: string | null;
}

/** An SQS message move task (StartMessageMoveTask), or the local copy that stands in for one. */
export interface MoveTask {
  /** RUNNING | COMPLETED | CANCELLING | CANCELLED | FAILED */
  status: string;
  /** Only while RUNNING: what CancelMessageMoveTask takes. The local copy has none. */
  taskHandle?: string | undefined;
  destinationArn?: string | undefined;
  moved: number;
  /** How many the task found to move when it started. */
  toMove?: number | undefined;
  startedAt?: number | undefined;
  failureReason?: string | undefined;
}

export interface DeadLetters {
  /** The URL of a queue by name (and owner account); undefined when it does not exist. */
  queueUrl(name: string, ownerAccountId?: string): Promise<string | undefined>;
  describe(queueUrl: string): Promise<QueueFacts>;
  /** Up to `max` distinct messages, received and then made visible again: the DLQ is left as it was found. */
  peek(dlqUrl: string, max: number): Promise<DeadLetter[]>;
  /** Starts moving every message of `dlq` to `destination`, at most `maxPerSecond` a second if given. */
  startMove(dlq: QueueRef, destination: QueueRef, maxPerSecond?: number): Promise<MoveTask>;
  /** The DLQ's move tasks, most recent first (SQS keeps the last 10). */
  moveTasks(dlqArn: string): Promise<MoveTask[]>;
  /** Cancels a RUNNING task; resolves to the number of messages it had moved. */
  cancelMove(taskHandle: string): Promise<number>;
}
