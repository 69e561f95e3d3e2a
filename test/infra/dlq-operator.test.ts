import type { IConstruct } from 'constructs';
import { createApp } from '../../lib/app';
import { QUEUES, type QueueKey } from '../../lambdas/topology';
import { getAtt, useInfraStacks } from '../support/infra-stack';

/**
 * The DLQ operator policy: exactly what `npm run dlq` needs (scripts/dlq.ts through adapters/sqs-dead-letters.ts),
 * on this stack's queues only. Stacks and helpers: test/support/infra-stack.ts.
 */
const { service, appProps } = useInfraStacks();

/** Per queue, what the CLI calls in AWS (and what SQS requires of the caller of the move-task actions). */
const DLQ_ACTIONS = [
  'sqs:GetQueueUrl', // the DLQ URL, from the ARN the source queue's RedrivePolicy names
  'sqs:GetQueueAttributes', // depth; also required by the three move-task actions
  'sqs:ReceiveMessage', // list; also required by the move-task actions
  'sqs:ChangeMessageVisibility', // list makes what it received visible again
  'sqs:DeleteMessage', // required by the move-task actions
  'sqs:StartMessageMoveTask', // redrive
  'sqs:ListMessageMoveTasks', // status, cancel
  'sqs:CancelMessageMoveTask', // cancel
];
const SOURCE_ACTIONS = [
  'sqs:GetQueueAttributes', // RedrivePolicy and ARN
  'sqs:SendMessage', // a move task sends into its destination as the caller
];

const arnOf = (construct: IConstruct) => getAtt(service.id(construct));
const keys = Object.keys(QUEUES) as QueueKey[];
/** The table-stream consumers' on-failure queues: nothing to redrive them to; read, then delete once handled. */
const STREAM_FAILURE_ACTIONS = ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage'];
type Statement = { Sid: string; Effect: string; Action: string | string[]; Resource: unknown };

describe('DlqOperatorPolicy', () => {
  const { template, stack } = service;
  const policies = template.findResources('AWS::IAM::ManagedPolicy');
  const policyId = service.id(stack.dlqOperator.policy);

  test('one customer-managed policy, exported as DlqOperatorPolicyArn and attached to nothing by the stack', () => {
    expect(Object.keys(policies)).toEqual([policyId]);
    template.hasOutput('DlqOperatorPolicyArn', { Value: { Ref: policyId } });
    const properties = policies[policyId]!.Properties as Record<string, unknown>;
    for (const attachment of ['Roles', 'Users', 'Groups']) expect(properties[attachment]).toBeUndefined();
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) expect(JSON.stringify(role)).not.toContain(policyId);
  });

  test("exactly the actions npm run dlq needs, on exactly this stack's DLQs and source queues; reading the stream failure queues", () => {
    const statements = (policies[policyId]!.Properties.PolicyDocument.Statement as Statement[]).map((st) => ({
      ...st,
      Action: [st.Action].flat().sort(),
      Resource: [st.Resource].flat(),
    }));
    expect(statements).toEqual([
      { Sid: 'DeadLetterQueues', Effect: 'Allow', Action: [...DLQ_ACTIONS].sort(), Resource: keys.map((k) => arnOf(stack.queues.byKey[k].dlq)) },
      { Sid: 'SourceQueues', Effect: 'Allow', Action: [...SOURCE_ACTIONS].sort(), Resource: keys.map((k) => arnOf(stack.queues.byKey[k].queue)) },
      {
        Sid: 'StreamFailureQueues',
        Effect: 'Allow',
        Action: [...STREAM_FAILURE_ACTIONS].sort(),
        Resource: Object.values(stack.queues.streamFailures).map((q) => arnOf(q)),
      },
    ]);
    // The webhook-deliveries DLQ (parked deliveries) is one of them, so npm run dlq redrives it like the others.
    expect(keys).toContain('webhookDeliveries');
    expect(Object.keys(stack.queues.streamFailures)).toEqual(['publish-events']);
    expect(JSON.stringify(statements)).not.toContain('*');
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding with the policy in the app', () => {
    const { app: nagApp } = createApp(appProps());
    // On failure the message lists every finding with its construct path and full id.
    expect(() => nagApp.synth()).not.toThrow();
  });
});
