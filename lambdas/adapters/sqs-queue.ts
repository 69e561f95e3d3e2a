import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { WebhookDelivery } from '../domain/messages';
import type { ClientTracing } from './client-tracing';
import type { WebhookDeliveryQueue } from '../ports/events';
import type { ChangeQueue, JobTickQueue, SubmissionQueue } from '../ports/queues';

export type SqsClientHook = (client: SQSClient) => void;

let clientHook: SqsClientHook = () => undefined;

/**
 * Instrumentation seam (default: nothing): `hook` sees every SQSClient sqsClient() creates, e.g. to add counting
 * middleware (bench/), on top of the X-Ray tracing the caller asks for. Handler modules create their clients at
 * import, so register before loading them.
 */
export function setSqsClientHook(hook: SqsClientHook): void {
  clientHook = hook;
}

/**
 * SQS client for our queues. With a local endpoint (fauxqs), the queue URL's host (sqs.<region>.localhost) must
 * not become the endpoint: it would be resolved through DNS (toolchain §2).
 */
export const sqsClient = (tracing: ClientTracing): SQSClient => {
  const client = tracing(new SQSClient({ useQueueUrlAsEndpoint: !process.env.AWS_ENDPOINT_URL_SQS }));
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

export class SqsJobTickQueue implements JobTickQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async send(tick: { jobId: string; generation: number }, delaySeconds: number): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(tick), DelaySeconds: delaySeconds }));
  }
}

/** SQS's batch limit: ten messages per SendMessageBatch. */
const SEND_BATCH = 10;

export class SqsWebhookDeliveryQueue implements WebhookDeliveryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(deliveries: readonly WebhookDelivery[], delaySeconds = 0): Promise<void> {
    for (let i = 0; i < deliveries.length; i += SEND_BATCH) {
      const batch = deliveries.slice(i, i + SEND_BATCH);
      const result = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((delivery, n) => ({ Id: String(n), MessageBody: JSON.stringify(delivery), DelaySeconds: delaySeconds })),
        }),
      );
      // A partial batch failure is not an exception in SQS: surface it, so the caller's record is retried.
      if (result.Failed && result.Failed.length > 0) {
        throw new Error(`SQS refused ${result.Failed.length} of ${batch.length} webhook deliveries (${result.Failed[0]?.Code ?? 'unknown'})`);
      }
    }
  }
}
