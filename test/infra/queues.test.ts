import { consumerConcurrency, QUEUES, type HandlerName, type QueueKey } from '../../lambdas/topology';
import { App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadStackConfig } from '../../lib/config';
import { TokenLifecycleStack } from '../../lib/token-lifecycle-stack';
import { SERVICE_TOPOLOGY } from '../../lib/topology';
import { resources, getAtt, actionsOf, roleStatements, useInfraStacks } from '../support/infra-stack';

/** Infra: the SQS queues, their DLQs and the event source mappings that consume them. Stacks and helpers: test/support/infra-stack.ts. */
const { service, cases, appProps } = useInfraStacks();

describe.each(cases)('%s', (_name, get) => {
  test('queues: each redrives to its own DLQ with maxReceiveCount; visibility 6 × consumer timeout; SSE; DLQ kept 14 days', () => {
    const s = get();
    // Each QUEUES entry and its DLQ, and one on-failure queue per table-stream consumer (test/infra/events.test.ts).
    expect(resources(s, 'AWS::SQS::Queue')).toHaveLength(2 * Object.keys(QUEUES).length + s.topology.tableStreamConsumers.length);
    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      const { queue, dlq } = s.stack.queues.byKey[key];
      const props = s.template.toJSON().Resources[s.id(queue)].Properties;
      expect(props).toMatchObject({
        RedrivePolicy: { deadLetterTargetArn: getAtt(s.id(dlq)), maxReceiveCount: QUEUES[key].maxReceiveCount },
        VisibilityTimeout: 6 * QUEUES[key].consumerTimeoutSeconds,
        SqsManagedSseEnabled: true,
      });
      expect(s.template.toJSON().Resources[s.id(dlq)].Properties).toEqual({ MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
    }
  });

  test('queues: every queue and DLQ denies requests without TLS (enforceSSL)', () => {
    const s = get();
    const sslDenied = resources(s, 'AWS::SQS::QueuePolicy').flatMap(([, policy]) =>
      policy.Properties.PolicyDocument.Statement.filter((st: any) => st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false').flatMap(
        () => policy.Properties.Queues.map((q: any) => q.Ref as string),
      ),
    );
    const all = resources(s, 'AWS::SQS::Queue').map(([id]) => id);
    expect(sslDenied.sort()).toEqual(all.sort());
  });

  test('queue consumers: one event source mapping each, ReportBatchItemFailures, batch size and max concurrency', () => {
    const s = get();
    const all = resources(s, 'AWS::Lambda::EventSourceMapping');
    // The table-stream consumers' mappings: test/infra/events.test.ts.
    expect(all).toHaveLength(s.topology.queueConsumers.length + s.topology.tableStreamConsumers.length);
    for (const [, mapping] of all) expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    const mappings = all.filter(([, m]) => m.Properties.EventSourceArn['Fn::GetAtt'][1] === 'Arn');
    expect(mappings).toHaveLength(s.topology.queueConsumers.length);
    for (const consumer of s.topology.queueConsumers) {
      const fnId = s.id(s.stack.functions.forApi(consumer.handler, 'backoffice'));
      const match = mappings.filter(([, m]) => m.Properties.FunctionName.Ref === fnId);
      expect(match.map(([, m]) => m.Properties)).toContainEqual(
        expect.objectContaining({
          EventSourceArn: getAtt(s.id(s.stack.queues.byKey[consumer.queue].queue)),
          BatchSize: consumer.batchSize,
          ScalingConfig: { MaximumConcurrency: consumerConcurrency(consumer, s.config.d1MaxTps) },
        }),
      );
    }
  });
});

describe('service topology: network tokens, token updates and reconciliation', () => {
  const fnOf = (handler: HandlerName) => service.stack.functions.forApi(handler, 'backoffice');

  test('token updates: notify-token-update only sends to token-updates; apply-token-update consumes it', () => {
    const tokenUpdates = getAtt(service.id(service.stack.queues.byKey.tokenUpdates.queue));
    const sends = roleStatements(service, fnOf('notify-token-update')).filter((st) => actionsOf(st).includes('sqs:SendMessage'));
    expect(sends.map((st) => st.Resource)).toEqual([tokenUpdates]);
    const mappings = resources(service, 'AWS::Lambda::EventSourceMapping').filter(
      ([, m]) => m.Properties.FunctionName.Ref === service.id(fnOf('apply-token-update')),
    );
    expect(mappings.map(([, m]) => m.Properties.EventSourceArn)).toEqual([tokenUpdates]);
  });
});

describe('service topology: LCM operations and the D1 submitter', () => {
  const fnId = (handler: 'lcm-operations' | 'd1-submitter') => service.id(service.stack.functions.forApi(handler, 'backoffice'));
  const d1Requests = () => getAtt(service.id(service.stack.queues.byKey.d1Requests.queue));

  test('d1-submitter consumes d1-requests: MaximumConcurrency 5, ReportBatchItemFailures', () => {
    const mappings = resources(service, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties.FunctionName.Ref === fnId('d1-submitter'));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toMatchObject({
      EventSourceArn: d1Requests(),
      ScalingConfig: { MaximumConcurrency: 5 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('d1-bulk-submitter consumes d1-bulk-requests and sends only there (a bulk retry stays on the bulk lane)', () => {
    const bulk = getAtt(service.id(service.stack.queues.byKey.d1BulkRequests.queue));
    const fn = service.stack.functions.forApi('d1-bulk-submitter', 'backoffice');
    const mappings = resources(service, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties.FunctionName.Ref === service.id(fn));
    expect(mappings.map(([, m]) => m.Properties)).toEqual([
      expect.objectContaining({
        EventSourceArn: bulk,
        BatchSize: 10,
        ScalingConfig: { MaximumConcurrency: 10 },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      }),
    ]);
    const sends = roleStatements(service, fn).filter((st) => actionsOf(st).includes('sqs:SendMessage'));
    expect(sends.map((st) => st.Resource)).toEqual([bulk]);
    const vars = service.template.toJSON().Resources[service.id(fn)].Properties.Environment.Variables;
    expect(vars).toMatchObject({ D1_MAX_TPS: '50', D1_BULK_REQUESTS_QUEUE_URL: { Ref: service.id(service.stack.queues.byKey.d1BulkRequests.queue) } });
  });

  test('the bulk lane scales with d1MaxTps: at 200 calls a second, 30 concurrent d1-bulk-submitters (200 × 1.5 s / 10)', () => {
    const app = new App(appProps({ d1MaxTps: 200 }));
    const stack = new TokenLifecycleStack(app, 'Paced', { config: loadStackConfig((key) => app.node.tryGetContext(key)), topology: SERVICE_TOPOLOGY });
    const template = Template.fromStack(stack).toJSON();
    const idOf = (handler: HandlerName) =>
      stack.resolve(stack.getLogicalId(stack.functions.forApi(handler, 'backoffice').node.defaultChild as CfnElement)) as string;
    const scaling = (handler: HandlerName) =>
      Object.values(template.Resources as Record<string, any>)
        .filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && r.Properties.FunctionName.Ref === idOf(handler))
        .map((r) => r.Properties.ScalingConfig);
    expect(scaling('d1-bulk-submitter')).toEqual([{ MaximumConcurrency: 30 }]);
    expect(template.Resources[idOf('d1-bulk-submitter')].Properties.Environment.Variables.D1_MAX_TPS).toBe('200');
    // The interactive submitter keeps its own cap.
    expect(scaling('d1-submitter')).toEqual([{ MaximumConcurrency: 5 }]);
  });
});
