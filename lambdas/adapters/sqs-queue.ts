import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { tracer } from '../observability';
import type { ChangeQueue, SubmissionQueue } from '../ports/queues';

export type SqsClientHook = (client: SQSClient) => void;

let clientHook: SqsClientHook = () => undefined;

/**
 * Instrumentation seam (default: nothing): `hook` sees every SQSClient sqsClient() creates, e.g. to add counting
 * middleware (bench/), on top of the X-Ray tracing every client gets. Handler modules create their clients at
 * import, so register before loading them.
 */
export function setSqsClientHook(hook: SqsClientHook): void {
  clientHook = hook;
}

/**
 * SQS client for our queues. With a local endpoint (fauxqs), the queue URL's host (sqs.<region>.localhost) must
 * not become the endpoint: it would be resolved through DNS (toolchain §2).
 */
export const sqsClient = (): SQSClient => {
  const client = tracer.captureAWSv3Client(new SQSClient({ useQueueUrlAsEndpoint: !process.env.AWS_ENDPOINT_URL_SQS }));
  clientHook(client);
  return client;
};

export class SqsQueue<T> implements ChangeQueue<T> {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(message: T): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message) }));
  }
}

export class SqsSubmissionQueue implements SubmissionQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async submit(message: { operationId: string; attempt: number }, delaySeconds: number): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message), DelaySeconds: delaySeconds }));
  }
}
