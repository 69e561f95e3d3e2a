import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueuePair } from './queues';

export interface DlqOperatorProps {
  /** Every QUEUES pair: `npm run dlq` lists and redrives their DLQs. */
  queues: readonly QueuePair[];
  /** The table-stream consumers' on-failure queues: read and emptied by hand (nothing to redrive them to). */
  streamFailures: readonly IQueue[];
}

/**
 * What `npm run dlq` (scripts/dlq.ts) needs, as a customer-managed policy for the operator's role to attach: the CLI
 * runs as a person, not as a Lambda, so nothing here is attached by the stack. Scoped to this stack's queues. Also
 * what the operator needs on the table-stream failure queues (docs/operations.md): read a message, delete it once
 * handled.
 */
export class DlqOperator extends Construct {
  readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: DlqOperatorProps) {
    super(scope, id);
    this.policy = new ManagedPolicy(this, 'Policy', {
      description:
        'npm run dlq (list, redrive, status, cancel) on the token-lifecycle DLQs, and reading the table-stream failure queues; attach to the operator role',
      statements: [
        new PolicyStatement({
          sid: 'DeadLetterQueues',
          actions: [
            // Finding the DLQ from the ARN the source queue's RedrivePolicy names, and its depth.
            'sqs:GetQueueUrl',
            'sqs:GetQueueAttributes',
            // `list` receives, then makes the messages visible again; StartMessageMoveTask (and the other two task
            // actions) also require ReceiveMessage, DeleteMessage and GetQueueAttributes on the DLQ.
            'sqs:ReceiveMessage',
            'sqs:ChangeMessageVisibility',
            'sqs:DeleteMessage',
            'sqs:StartMessageMoveTask',
            'sqs:ListMessageMoveTasks',
            'sqs:CancelMessageMoveTask',
          ],
          resources: props.queues.map((q) => q.dlq.queueArn),
        }),
        new PolicyStatement({
          sid: 'SourceQueues',
          // Their RedrivePolicy and ARN; a move task sends into the destination with the caller's SendMessage.
          actions: ['sqs:GetQueueAttributes', 'sqs:SendMessage'],
          resources: props.queues.map((q) => q.queue.queueArn),
        }),
        ...(props.streamFailures.length > 0
          ? [
              new PolicyStatement({
                sid: 'StreamFailureQueues',
                // Read what the stream consumer gave up on (shard, sequence numbers), then delete it once handled.
                actions: ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'],
                resources: props.streamFailures.map((q) => q.queueArn),
              }),
            ]
          : []),
      ],
    });
  }
}
