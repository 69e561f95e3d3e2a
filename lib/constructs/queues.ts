import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUES, dlqName, type QueueKey } from '../../lambdas/topology';
import { pascal } from './naming';

export interface QueuePair {
  queue: IQueue;
  dlq: IQueue;
}

/**
 * One standard queue per `QUEUES` entry, each with its own DLQ. The DLQ catches consumer crashes (poison
 * messages), not D1 failures, which the consumers retry with their own backoff (DESIGN §4).
 */
export class Queues extends Construct {
  readonly byKey: Record<QueueKey, QueuePair>;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const entries = (Object.keys(QUEUES) as QueueKey[]).map((key): [QueueKey, QueuePair] => {
      const spec = QUEUES[key];
      const name = pascal(spec.localName);
      const dlq = new Queue(this, pascal(dlqName(spec)), {
        // Longer than the source queue's 4-day retention: SQS keeps the original enqueue time on redrive.
        retentionPeriod: Duration.days(14),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const queue = new Queue(this, name, {
        // AWS guidance for Lambda event sources: 6 × the function timeout, so a batch that is still being
        // processed (or retried by the poller) is not handed to a second consumer.
        visibilityTimeout: Duration.seconds(6 * spec.consumerTimeoutSeconds),
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        deadLetterQueue: { queue: dlq, maxReceiveCount: spec.maxReceiveCount },
      });
      return [key, { queue, dlq }];
    });
    this.byKey = Object.fromEntries(entries) as Record<QueueKey, QueuePair>;
  }
}
