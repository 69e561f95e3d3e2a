import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-context';

export type SqsHandler = (event: SQSEvent, context: ReturnType<typeof lambdaContext>) => Promise<SQSBatchResponse | void>;

export interface PollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsHandler;
  /** Lambda function name, for the context and logs. */
  name: string;
  batchSize: number;
  /** Parallel receive loops, like the event source mapping's concurrency. */
  concurrency?: number;
  /** Long-poll wait; short so stop() is quick. */
  waitTimeSeconds?: number;
  log?: (line: string) => void;
}

export interface Poller {
  stop(): Promise<void>;
  /** Resolves once every loop has handled what it had received (for tests: "nothing in flight"). */
  readonly inFlight: number;
}

function toLambdaAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    out[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return out;
}

/** The record Lambda's SQS event source builds from a received message. */
export function toSqsRecord(message: Message, queueArn: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: toLambdaAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
  };
}

/**
 * What Lambda's SQS event source mapping does, locally: receive a batch, invoke the consumer with a real SQS
 * event, delete only the messages not listed in `batchItemFailures` (ReportBatchItemFailures). A handler that
 * throws deletes nothing: the whole batch becomes visible again and, after maxReceiveCount, goes to the DLQ.
 */
export function startPoller(options: PollerOptions): Poller {
  let running = true;
  let inFlight = 0;
  const abort = new AbortController();

  const loop = async (): Promise<void> => {
    while (running) {
      let messages: Message[];
      try {
        const received = await options.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: options.batchSize,
            WaitTimeSeconds: options.waitTimeSeconds ?? 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        messages = received.Messages ?? [];
      } catch (err) {
        if (!running) return;
        options.log?.(`${options.name}: receive failed: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      if (messages.length === 0) continue;
      inFlight += messages.length;
      try {
        const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, options.queueArn)) };
        let failed = new Set<string>();
        try {
          const response = await options.handler(event, lambdaContext(options.name));
          failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        } catch (err) {
          options.log?.(`${options.name}: handler threw, batch of ${messages.length} left for redelivery: ${(err as Error).message}`);
          continue;
        }
        const done = messages.filter((m) => !failed.has(m.MessageId!));
        if (done.length > 0) {
          await options.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
            }),
          );
        }
      } catch (err) {
        options.log?.(`${options.name}: delete failed: ${(err as Error).message}`);
      } finally {
        inFlight -= messages.length;
      }
    }
  };

  const loops = Array.from({ length: options.concurrency ?? 1 }, () => loop());
  return {
    get inFlight() {
      return inFlight;
    },
    async stop() {
      running = false;
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}
