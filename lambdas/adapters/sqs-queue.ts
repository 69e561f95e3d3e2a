import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SubmissionQueue } from '../ports/d1-issuer';
import type { ChangeQueue } from '../ports/token-store';

/**
 * SQS client for our queues. With a local endpoint (fauxqs), the queue URL's host (sqs.<region>.localhost) must
 * not become the endpoint: it would be resolved through DNS (toolchain §2).
 */
export const sqsClient = (): SQSClient => new SQSClient({ useQueueUrlAsEndpoint: !process.env.AWS_ENDPOINT_URL_SQS });

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
