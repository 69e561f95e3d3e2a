import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { QueuePair } from './queues';

/**
 * What `npm run dlq` (scripts/dlq.ts) needs, as a customer-managed policy for the operator's role to attach: the CLI
 * runs as a person, not as a Lambda, so nothing here is attached by the stack. Scoped to this stack's queues.
 */
export class DlqOperator extends Construct {
  readonly policy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: { queues: readonly QueuePair[] }) {
    super(scope, id);
    this.policy = new ManagedPolicy(this, 'Policy', {
      description: 'npm run dlq (list, redrive, status, cancel) on the token-lifecycle DLQs; attach to the operator role',
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
      ],
    });
  }
}
