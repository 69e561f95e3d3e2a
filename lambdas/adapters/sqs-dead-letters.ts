import {
  CancelMessageMoveTaskCommand,
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetters, MoveTask, QueueFacts, QueueRef } from '../ports/dead-letters';

/** How long a message received by `peek` (or the local copy) stays hidden from other receivers. */
const HOLD_SECONDS = 30;

const isoOrNull = (epochMs: string | undefined): string | null =>
  epochMs && Number.isFinite(Number(epochMs)) ? new Date(Number(epochMs)).toISOString() : null;

/**
 * What an endpoint answers for an action it does not know: fauxqs 2.4.1 implements none of StartMessageMoveTask,
 * ListMessageMoveTasks, CancelMessageMoveTask (`Unknown action: …`). SQS itself never answers this for them.
 */
const unknownAction = (err: unknown): boolean => (err as Error).name === 'InvalidAction';
const NO_TASKS = 'this SQS endpoint has no message move tasks (fauxqs): a local redrive runs to the end inside `redrive`, there is nothing to watch or cancel';

/** The SQS side of `npm run dlq`: SQS's own message move tasks, with a local stand-in where fauxqs lacks them. */
export class SqsDeadLetters implements DeadLetters {
  /** `waitTimeSeconds`: long poll per receive; an empty one ends a pass (0 suits fauxqs, which answers at once). */
  constructor(
    private readonly client: SQSClient,
    private readonly waitTimeSeconds = 1,
  ) {}

  async queueUrl(name: string, ownerAccountId?: string): Promise<string | undefined> {
    const found = this.client.send(new GetQueueUrlCommand({ QueueName: name, ...(ownerAccountId ? { QueueOwnerAWSAccountId: ownerAccountId } : {}) }));
    return found.then(
      (r) => r.QueueUrl,
      (err: Error) => (err.name === 'QueueDoesNotExist' || err.name === 'AWS.SimpleQueueService.NonExistentQueue' ? undefined : Promise.reject(err)),
    );
  }

  async describe(queueUrl: string): Promise<QueueFacts> {
    const depth = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
    const { Attributes: a = {} } = await this.client.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn', 'RedrivePolicy', ...depth] }),
    );
    const [visible, inFlight, delayed] = depth.map((name) => Number(a[name] ?? 0)) as [number, number, number];
    const deadLetterTargetArn = a.RedrivePolicy ? (JSON.parse(a.RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn : undefined;
    return { arn: a.QueueArn!, deadLetterTargetArn, visible, inFlight, delayed };
  }

  async peek(dlqUrl: string, max: number): Promise<DeadLetter[]> {
    const seen = new Map<string, DeadLetter>();
    const held: string[] = [];
    try {
      while (seen.size < max) {
        const batch = await this.receive(dlqUrl, Math.min(10, max - seen.size));
        held.push(...batch.map((m) => m.ReceiptHandle!));
        const fresh = batch.filter((m) => !seen.has(m.MessageId!)); // a standard queue may deliver a message twice
        // Empty, or only messages already seen: the pass outlived the hold and came round again.
        if (fresh.length === 0) break;
        for (const { MessageId, Body, Attributes: a = {} } of fresh) {
          const receiveCount = a.ApproximateReceiveCount ? Number(a.ApproximateReceiveCount) : null;
          seen.set(MessageId!, {
            messageId: MessageId!,
            body: Body ?? '',
            receiveCount,
            sentAt: isoOrNull(a.SentTimestamp),
            firstReceivedAt: isoOrNull(a.ApproximateFirstReceiveTimestamp),
          });
        }
      }
    } finally {
      // Visible again at once, so a redrive right after finds them; an entry that fails is visible after the hold.
      for (let i = 0; i < held.length; i += 10) {
        const entries = held.slice(i, i + 10).map((handle, j) => ({ Id: String(i + j), ReceiptHandle: handle, VisibilityTimeout: 0 }));
        await this.client.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlqUrl, Entries: entries }));
      }
    }
    return [...seen.values()];
  }

  async startMove(dlq: QueueRef, destination: QueueRef, maxPerSecond?: number): Promise<MoveTask> {
    const rate = maxPerSecond ? { MaxNumberOfMessagesPerSecond: maxPerSecond } : {};
    const started = await this.client
      .send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: destination.arn, ...rate }))
      .catch((err: unknown) => {
        if (unknownAction(err)) return undefined;
        throw err;
      });
    const task = { destinationArn: destination.arn, startedAt: Date.now() };
    if (started) return { ...task, status: 'RUNNING', taskHandle: started.TaskHandle, moved: 0 };
    return { ...task, status: 'COMPLETED', moved: await this.copyBack(dlq.url, destination.url) };
  }

  async moveTasks(dlqArn: string): Promise<MoveTask[]> {
    const { Results = [] } = await this.client.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 10 })).catch(noTasks);
    return Results.map((t) => ({
      status: t.Status ?? 'UNKNOWN',
      taskHandle: t.TaskHandle,
      destinationArn: t.DestinationArn,
      moved: t.ApproximateNumberOfMessagesMoved ?? 0,
      toMove: t.ApproximateNumberOfMessagesToMove,
      startedAt: t.StartedTimestamp,
      failureReason: t.FailureReason,
    }));
  }

  async cancelMove(taskHandle: string): Promise<number> {
    return (await this.client.send(new CancelMessageMoveTaskCommand({ TaskHandle: taskHandle })).catch(noTasks)).ApproximateNumberOfMessagesMoved ?? 0;
  }

  /**
   * Only where the endpoint has no StartMessageMoveTask (fauxqs): one message at a time, sent to the destination
   * first and deleted from the DLQ only once SQS accepted the send. A crash in between leaves a copy in both
   * queues, redriven again later and applied once (the consumers dedupe); delete-then-send would lose it.
   */
  private async copyBack(dlqUrl: string, destinationUrl: string): Promise<number> {
    for (let moved = 0; ; moved++) {
      const [message] = await this.receive(dlqUrl, 1);
      if (!message) return moved;
      let sent = false;
      try {
        await this.client.send(new SendMessageCommand({ QueueUrl: destinationUrl, MessageBody: message.Body ?? '', ...copiedAttributes(message) }));
        sent = true;
        await this.client.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message.ReceiptHandle! }));
      } catch (err) {
        const left = sent ? 'it was sent, so the copy left in the DLQ is harmless to redrive again' : 'it stays in the DLQ';
        throw new Error(
          `${sent ? 'DLQ delete' : 'send to the source queue'} failed for ${message.MessageId} after ${moved} moved (${left}): ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
  }

  private async receive(queueUrl: string, max: number): Promise<Message[]> {
    const { Messages = [] } = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: max,
        VisibilityTimeout: HOLD_SECONDS,
        WaitTimeSeconds: this.waitTimeSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'ApproximateFirstReceiveTimestamp'],
        MessageAttributeNames: ['All'],
      }),
    );
    return Messages;
  }
}

const noTasks = (err: unknown): never => {
  throw unknownAction(err) ? new Error(NO_TASKS, { cause: err }) : err;
};

/** Rebuilt rather than echoed: a received value may carry the (reserved) list fields, which SendMessage rejects. */
function copiedAttributes({ MessageAttributes = {} }: Message): { MessageAttributes?: Record<string, MessageAttributeValue> } {
  const entries = Object.entries(MessageAttributes).map(
    ([name, { DataType, StringValue, BinaryValue }]) => [name, { DataType, StringValue, BinaryValue }] as const,
  );
  return entries.length > 0 ? { MessageAttributes: Object.fromEntries(entries) } : {};
}
