import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { createApp } from '../../lib/app';
import { loadStackConfig } from '../../lib/config';
import { TokenLifecycleStack } from '../../lib/token-lifecycle-stack';
import { QUEUES, type QueueKey } from '../../lambdas/topology';

/**
 * The DLQ operator policy: exactly what `npm run dlq` needs (scripts/dlq.ts through adapters/sqs-dead-letters.ts),
 * on this stack's queues only. Synth as in stack.test.ts: no bundling, no built-in CloudFormation validation.
 */
const OUT = fs.mkdtempSync(path.join(os.tmpdir(), 'dlq-operator-test-'));
const appProps = (dir: string) => ({ builtinCloudFormationValidation: false, outdir: path.join(OUT, dir), context: { 'aws:cdk:bundling-stacks': [] } });
afterAll(() => fs.rmSync(OUT, { recursive: true, force: true }));

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

const app = new App(appProps('stack'));
const stack = new TokenLifecycleStack(app, 'Test', { config: loadStackConfig((key) => app.node.tryGetContext(key)) });
const template = Template.fromStack(stack);
const id = (construct: IConstruct) => stack.resolve(stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement)) as string;
const arnOf = (construct: IConstruct) => ({ 'Fn::GetAtt': [id(construct), 'Arn'] });
const keys = Object.keys(QUEUES) as QueueKey[];
type Statement = { Sid: string; Effect: string; Action: string | string[]; Resource: unknown };

describe('DlqOperatorPolicy', () => {
  const policies = template.findResources('AWS::IAM::ManagedPolicy');
  const policyId = id(stack.dlqOperator.policy);

  test('one customer-managed policy, exported as DlqOperatorPolicyArn and attached to nothing by the stack', () => {
    expect(Object.keys(policies)).toEqual([policyId]);
    template.hasOutput('DlqOperatorPolicyArn', { Value: { Ref: policyId } });
    const properties = policies[policyId]!.Properties as Record<string, unknown>;
    for (const attachment of ['Roles', 'Users', 'Groups']) expect(properties[attachment]).toBeUndefined();
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) expect(JSON.stringify(role)).not.toContain(policyId);
  });

  test('exactly the actions npm run dlq needs, on exactly this stack\'s DLQs and source queues', () => {
    const statements = (policies[policyId]!.Properties.PolicyDocument.Statement as Statement[]).map((st) => ({ ...st, Action: [st.Action].flat().sort() }));
    expect(statements).toEqual([
      { Sid: 'DeadLetterQueues', Effect: 'Allow', Action: [...DLQ_ACTIONS].sort(), Resource: keys.map((k) => arnOf(stack.queues.byKey[k].dlq)) },
      { Sid: 'SourceQueues', Effect: 'Allow', Action: [...SOURCE_ACTIONS].sort(), Resource: keys.map((k) => arnOf(stack.queues.byKey[k].queue)) },
    ]);
    expect(JSON.stringify(statements)).not.toContain('*');
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding with the policy in the app', () => {
    const { app: nagApp } = createApp(appProps('nag'));
    // On failure the message lists every finding with its construct path and full id.
    expect(() => nagApp.synth()).not.toThrow();
  });
});
