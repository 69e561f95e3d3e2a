import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption, type IQueue, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUES, dlqName, type HandlerName, type QueueKey, type QueueSpec, type TableStreamConsumer } from '../../lambdas/topology';
import { pascal } from './naming';

export interface QueuePair {
  queue: IQueue;
  dlq: IQueue;
}

/**
 * The env var that carries a queue's DLQ URL to a Lambda that parks messages there itself (`WEBHOOK_DELIVERIES_QUEUE_URL`
 * → `WEBHOOK_DELIVERIES_DLQ_URL`): a handler whose env lists it gets the URL and `SendMessage` on that DLQ only.
 */
export const dlqEnvVar = (queue: QueueSpec): string => queue.envVar.replace(/_QUEUE_URL$/, '_DLQ_URL');

/** The on-failure destination of a table-stream consumer: `publish-events` → `publish-events-failures`. */
export const streamFailuresName = (consumer: Pick<TableStreamConsumer, 'handler'>): string => `${consumer.handler}-failures`;

/** Like every DLQ here: longer than a source queue's 4-day retention (SQS keeps the original enqueue time on redrive). */
const DEAD_LETTER_RETENTION = Duration.days(14);
const ENCRYPTED: Pick<QueueProps, 'encryption' | 'enforceSSL'> = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true };

export interface QueuesProps {
  /** One on-failure queue is made per consumer of the table's stream (lib/constructs/functions.ts attaches it). */
  tableStreamConsumers: readonly TableStreamConsumer[];
}

/**
 * One standard queue per `QUEUES` entry, each with its own DLQ. The DLQ catches consumer crashes (poison
 * messages), not D1 failures, which the consumers retry with their own backoff (DESIGN §4).
 *
 * Plus, per table-stream consumer, the queue its event source sends a batch's description to once the retries are
 * spent (`<handler>-failures`): the stream records themselves stay in the stream (24 h), not in the queue.
 */
export class Queues extends Construct {
  readonly byKey: Record<QueueKey, QueuePair>;
  readonly streamFailures: Partial<Record<HandlerName, IQueue>>;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    const entries = (Object.keys(QUEUES) as QueueKey[]).map((key): [QueueKey, QueuePair] => {
      const spec = QUEUES[key];
      const name = pascal(spec.localName);
      const dlq = new Queue(this, pascal(dlqName(spec)), { retentionPeriod: DEAD_LETTER_RETENTION, ...ENCRYPTED });
      const queue = new Queue(this, name, {
        // AWS guidance for Lambda event sources: 6 × the function timeout, so a batch that is still being
        // processed (or retried by the poller) is not handed to a second consumer.
        visibilityTimeout: Duration.seconds(6 * spec.consumerTimeoutSeconds),
        ...ENCRYPTED,
        deadLetterQueue: { queue: dlq, maxReceiveCount: spec.maxReceiveCount },
      });
      return [key, { queue, dlq }];
    });
    this.byKey = Object.fromEntries(entries) as Record<QueueKey, QueuePair>;

    this.streamFailures = {};
    for (const consumer of props.tableStreamConsumers) {
      if (this.streamFailures[consumer.handler]) throw new Error(`table-stream consumer ${consumer.handler} is listed twice`);
      const failures = new Queue(this, pascal(streamFailuresName(consumer)), { retentionPeriod: DEAD_LETTER_RETENTION, ...ENCRYPTED });
      Validations.of(failures).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          `The on-failure destination of the ${consumer.handler} table-stream event source: it is itself a dead-letter queue ` +
          '(Lambda sends it what the stream consumer gave up on), not a queue anything consumes, so a DLQ of its own would only move the problem.',
      });
      this.streamFailures[consumer.handler] = failures;
    }
  }
}
