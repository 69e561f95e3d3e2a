import { App } from 'aws-cdk-lib';
import { ITERATOR_AGE_ALARM } from '../../lib/constructs/alarms';
import { PUBLISHED_ENTITIES, STREAM_CONSUMER_TIMEOUT_SECONDS } from '../../lib/constructs/functions';
import { streamFailuresName } from '../../lib/constructs/queues';
import { loadStackConfig } from '../../lib/config';
import { TokenLifecycleStack } from '../../lib/token-lifecycle-stack';
import { SERVICE_TOPOLOGY } from '../../lib/topology';
import { METRICS_NAMESPACE, QUEUES, SERVICE_NAME, TABLE, TABLE_STREAM_CONSUMERS } from '../../lambdas/topology';
import { DLQ_URL_VAR, actionsOf, dashboardOf, getAtt, resources, roleStatements, useInfraStacks, type Synth } from '../support/infra-stack';

/**
 * Infra: events out (DESIGN §8): the table's stream and the publisher it invokes, the EventBridge bus, the
 * webhook-deliveries DLQ's writers, and their alarms and dashboard panels. Stacks and helpers: test/support/infra-stack.ts.
 */
const { appProps, service, extended, cases } = useInfraStacks();

const tableId = (s: Synth) => s.id(s.stack.tables.table);
const streamArn = (s: Synth) => getAtt(tableId(s), 'StreamArn');
const busArn = (s: Synth) => getAtt(s.id(s.stack.eventBus.bus));
const envOf = (s: Synth, fn: Parameters<Synth['id']>[0]): Record<string, unknown> => s.template.toJSON().Resources[s.id(fn)].Properties.Environment.Variables;

test('the service has one table-stream consumer, publish-events; the extended copy adds a second', () => {
  expect(TABLE_STREAM_CONSUMERS).toEqual([{ handler: 'publish-events', batchSize: 100, retryAttempts: 20 }]);
  expect(service.topology.tableStreamConsumers).toEqual(TABLE_STREAM_CONSUMERS);
  expect(extended.topology.tableStreamConsumers.map((c) => c.handler)).toEqual(['publish-events', 'openapi']);
});

describe.each(cases)('%s', (_name, get) => {
  test('table: the stream is on, with old and new images; gsi2 (the event log) projects everything', () => {
    const s = get();
    const table = s.template.toJSON().Resources[tableId(s)].Properties;
    expect(TABLE.streamView).toBe('NEW_AND_OLD_IMAGES');
    expect(table.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expect(table.GlobalSecondaryIndexes.find((g: { IndexName: string }) => g.IndexName === 'gsi2').Projection).toEqual({ ProjectionType: 'ALL' });
  });

  test('bus: one custom bus, <stack>-events, no resource policy; its name and ARN are outputs', () => {
    const s = get();
    const buses = resources(s, 'AWS::Events::EventBus');
    expect(buses).toHaveLength(1);
    const [busId, bus] = buses[0]!;
    expect(bus.Properties.Name).toBe(`${s.stack.stackName}-events`);
    expect(bus.Properties.Policy).toBeUndefined();
    expect(resources(s, 'AWS::Events::EventBusPolicy')).toEqual([]);
    const outputs = s.template.toJSON().Outputs;
    expect(outputs.EventBusName.Value).toEqual({ Ref: busId });
    expect(outputs.EventBusArn.Value).toEqual(getAtt(busId));
  });

  test('bus: events:PutEvents only for EVENT_BUS_NAME readers, only on the bus, only with source token-lifecycle; they get its name', () => {
    const s = get();
    let readers = 0;
    for (const { plan, fn } of s.stack.functions.all) {
      const reads = s.topology.handlers[plan.handler].env.includes('EVENT_BUS_NAME');
      const onEvents = roleStatements(s, fn).filter((st) => actionsOf(st).some((a) => a.startsWith('events:')));
      if (!reads) {
        expect({ fn: plan.id, onEvents, env: envOf(s, fn).EVENT_BUS_NAME }).toEqual({ fn: plan.id, onEvents: [], env: undefined });
        continue;
      }
      readers++;
      expect(onEvents).toEqual([
        { Effect: 'Allow', Action: 'events:PutEvents', Resource: busArn(s), Condition: { StringEquals: { 'events:source': SERVICE_NAME } } },
      ]);
      expect(envOf(s, fn).EVENT_BUS_NAME).toEqual({ Ref: s.id(s.stack.eventBus.bus) });
    }
    expect(readers).toBe(s === extended ? 2 : 1);
  });

  test('stream consumers: one mapping each on the stream: TRIM_HORIZON, batch and retries from the spec, bisect, per-item failures, one batch per shard, on-failure queue, entity filter', () => {
    const s = get();
    const onStream = resources(s, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties.EventSourceArn['Fn::GetAtt'][1] === 'StreamArn');
    expect(onStream).toHaveLength(s.topology.tableStreamConsumers.length);
    for (const consumer of s.topology.tableStreamConsumers) {
      const fnId = s.id(s.stack.functions.forApi(consumer.handler, 'backoffice'));
      const mine = onStream.filter(([, m]) => m.Properties.FunctionName.Ref === fnId).map(([, m]) => m.Properties);
      expect(mine).toHaveLength(1);
      const { FilterCriteria, ...mapping } = mine[0]!;
      expect(mapping).toEqual({
        FunctionName: { Ref: fnId },
        EventSourceArn: streamArn(s),
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: consumer.batchSize,
        MaximumRetryAttempts: consumer.retryAttempts,
        BisectBatchOnFunctionError: true,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ParallelizationFactor: 1,
        DestinationConfig: { OnFailure: { Destination: getAtt(s.id(s.stack.queues.streamFailures[consumer.handler]!)) } },
      });
      // Inserts and modifications of the items that publish events; not the event log or subscriptions the publisher
      // writes itself, nor callback events, idempotency keys or counters.
      expect(FilterCriteria.Filters.map((f: { Pattern: string }) => JSON.parse(f.Pattern))).toEqual([
        { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { entity: { S: ['TOKEN', 'OPERATION', 'NETWORK_TOKEN'] } } } },
      ]);
      expect(PUBLISHED_ENTITIES).toEqual(['TOKEN', 'OPERATION', 'NETWORK_TOKEN']);
    }
  });

  test('stream consumers: stream reads on the stream ARN only, for consumers only; the 30 s consumer timeout', () => {
    const s = get();
    const consumers = new Set(s.topology.tableStreamConsumers.map((c) => c.handler));
    const json = s.template.toJSON().Resources;
    for (const { plan, fn } of s.stack.functions.all) {
      const onStream = roleStatements(s, fn).filter((st) => JSON.stringify(st.Resource).includes('StreamArn'));
      if (!consumers.has(plan.handler)) {
        expect({ fn: plan.id, onStream }).toEqual({ fn: plan.id, onStream: [] });
        continue;
      }
      expect(onStream.flatMap(actionsOf).sort()).toEqual([
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
      ]);
      for (const st of onStream) expect(st.Resource).toEqual(streamArn(s));
      expect(json[s.id(fn)].Properties.Timeout).toBe(STREAM_CONSUMER_TIMEOUT_SECONDS);
    }
  });

  test('stream on-failure queues: one per consumer, SQS-managed encryption, TLS only, kept 14 days; each URL is an output', () => {
    const s = get();
    const json = s.template.toJSON();
    expect(Object.keys(s.stack.queues.streamFailures).sort()).toEqual(s.topology.tableStreamConsumers.map((c) => c.handler).sort());
    for (const consumer of s.topology.tableStreamConsumers) {
      const queueId = s.id(s.stack.queues.streamFailures[consumer.handler]!);
      expect(json.Resources[queueId].Properties).toEqual({ MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
      const tlsOnly = resources(s, 'AWS::SQS::QueuePolicy').filter(
        ([, p]) =>
          p.Properties.Queues.some((q: { Ref: string }) => q.Ref === queueId) &&
          p.Properties.PolicyDocument.Statement.some((st: any) => st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false'),
      );
      expect(tlsOnly).toHaveLength(1);
      const outputs = Object.values(json.Outputs as Record<string, { Value: unknown }>).filter(
        (o) => JSON.stringify(o.Value) === JSON.stringify({ Ref: queueId }),
      );
      expect(outputs).toHaveLength(1);
    }
    expect(json.Outputs.PublishEventsFailuresQueueUrl.Value).toEqual({ Ref: s.id(s.stack.queues.streamFailures['publish-events']!) });
    expect(streamFailuresName({ handler: 'publish-events' })).toBe('publish-events-failures');
  });

  test('env: EVENT_RETENTION_DAYS from the configuration where declared; WEBHOOK_ALLOW_LOOPBACK in no function', () => {
    const s = get();
    const days = s === extended ? '7' : '30';
    let declared = 0;
    for (const { plan, fn } of s.stack.functions.all) {
      const env = envOf(s, fn);
      expect({ fn: plan.id, loopback: 'WEBHOOK_ALLOW_LOOPBACK' in env }).toEqual({ fn: plan.id, loopback: false });
      if (s.topology.handlers[plan.handler].env.includes('EVENT_RETENTION_DAYS')) {
        declared++;
        expect({ fn: plan.id, days: env.EVENT_RETENTION_DAYS }).toEqual({ fn: plan.id, days });
      } else expect(env.EVENT_RETENTION_DAYS).toBeUndefined();
    }
    expect(declared).toBeGreaterThan(0);
    expect(s.json).not.toContain('WEBHOOK_ALLOW_LOOPBACK');
  });

  test('alarms: IteratorAge max > 60 s for 5 minutes per stream consumer; its on-failure queue and the webhook-deliveries DLQ not empty', () => {
    const s = get();
    const alarms = resources(s, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    for (const consumer of s.topology.tableStreamConsumers) {
      const fnId = s.id(s.stack.functions.forApi(consumer.handler, 'backoffice'));
      const age = alarms.filter((a) => a.MetricName === 'IteratorAge' && a.Dimensions[0].Value.Ref === fnId);
      expect(age).toHaveLength(1);
      expect(age[0]).toMatchObject({
        Namespace: 'AWS/Lambda',
        Statistic: 'Maximum',
        Period: 60,
        Threshold: 60_000,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 5,
        DatapointsToAlarm: 5,
        TreatMissingData: 'notBreaching',
      });
      expect(ITERATOR_AGE_ALARM).toEqual({ thresholdMs: 60_000, minutes: 5 });
      const errors = alarms.filter((a) => a.MetricName === 'Errors' && a.Dimensions[0].Value.Ref === fnId);
      expect(errors).toHaveLength(1);
      const failuresId = s.id(s.stack.queues.streamFailures[consumer.handler]!);
      const depth = alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && a.Dimensions[0].Value['Fn::GetAtt'][0] === failuresId);
      expect(depth).toHaveLength(1);
      expect(depth[0]).toMatchObject({ Statistic: 'Maximum', Period: 60, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    }
    const webhookDlq = alarms.filter(
      (a) =>
        a.MetricName === 'ApproximateNumberOfMessagesVisible' && a.Dimensions[0].Value['Fn::GetAtt'][0] === s.id(s.stack.queues.byKey.webhookDeliveries.dlq),
    );
    expect(webhookDlq).toHaveLength(1);
    // The handler that parks deliveries in the DLQ itself is named in the description (the extended copy adds a second).
    expect(webhookDlq[0]!.AlarmDescription).toContain('deliver-webhook');
    expect(webhookDlq[0]!.AlarmDescription.includes('openapi')).toBe(s === extended);
  });

  test('dashboard: event lag (IteratorAge p50 and max), events published, webhook outcomes, the age of each queue', () => {
    const s = get();
    const { lines } = dashboardOf(s);
    for (const consumer of s.topology.tableStreamConsumers) {
      const fnId = s.id(s.stack.functions.forApi(consumer.handler, 'backoffice'));
      for (const stat of ['p50', 'Maximum']) expect(lines).toContain(`AWS/Lambda IteratorAge FunctionName=\${${fnId}} ${stat}`);
    }
    for (const name of ['EventsPublished', 'WebhookDelivered', 'WebhookRetried', 'WebhookParked', 'WebhookDropped']) {
      expect(lines).toContain(`${METRICS_NAMESPACE} ${name} service=${SERVICE_NAME} Sum`);
    }
    for (const key of Object.keys(QUEUES) as (keyof typeof QUEUES)[]) {
      expect(lines).toContain(`AWS/SQS ApproximateAgeOfOldestMessage QueueName=\${${s.id(s.stack.queues.byKey[key].queue)}.QueueName} Maximum`);
    }
  });
});

describe('DLQ URL readers (a handler that parks messages in a DLQ itself)', () => {
  test('<QUEUE>_DLQ_URL: the DLQ URL and SendMessage on that DLQ, no other DLQ', () => {
    const fn = extended.stack.functions.forApi('openapi', 'backoffice');
    const dlq = extended.stack.queues.byKey.webhookDeliveries.dlq;
    expect(DLQ_URL_VAR).toBe('WEBHOOK_DELIVERIES_DLQ_URL');
    expect(envOf(extended, fn)[DLQ_URL_VAR]).toEqual({ Ref: extended.id(dlq) });
    const send = roleStatements(extended, fn).filter((st) => actionsOf(st).includes('sqs:SendMessage'));
    expect(send.map((st) => st.Resource)).toContainEqual(getAtt(extended.id(dlq)));
    const dlqIds = Object.values(extended.stack.queues.byKey).map((q) => extended.id(q.dlq));
    const sentToDlqs = send.flatMap((st) => [st.Resource].flat() as { 'Fn::GetAtt': string[] }[]).filter((r) => dlqIds.includes(r['Fn::GetAtt'][0]!));
    expect(sentToDlqs).toEqual([getAtt(extended.id(dlq))]);
    // Nobody else, in either topology, writes to a DLQ (only SQS's redrive does) but deliver-webhook, to its own.
    for (const s of [service, extended]) {
      for (const { plan, fn: other } of s.stack.functions.all) {
        if (s === extended && plan.handler === 'openapi') continue;
        const toDlq = roleStatements(s, other)
          .filter((st) => actionsOf(st).includes('sqs:SendMessage') && dlqIds.includes((st.Resource as any)['Fn::GetAtt']?.[0]))
          .map((st) => st.Resource);
        const own = plan.handler === 'deliver-webhook' ? [getAtt(s.id(s.stack.queues.byKey.webhookDeliveries.dlq))] : [];
        expect({ fn: plan.id, toDlq }).toEqual({ fn: plan.id, toDlq: own });
      }
    }
  });
});

describe('bad stream wiring fails synth', () => {
  test('more than two table-stream consumers (DynamoDB Streams readers per shard)', () => {
    const topology = {
      ...SERVICE_TOPOLOGY,
      tableStreamConsumers: [
        ...TABLE_STREAM_CONSUMERS,
        { handler: 'openapi', batchSize: 1, retryAttempts: 1 },
        { handler: 'health', batchSize: 1, retryAttempts: 1 },
      ],
    } as const;
    expect(() => new TokenLifecycleStack(new App(appProps()), 'Bad', { config: loadStackConfig(() => undefined), topology })).toThrow(
      /at most 2 table-stream consumers/,
    );
  });

  test('eventRetentionDays is validated like the other settings', () => {
    expect(() => loadStackConfig((key) => ({ eventRetentionDays: 0 })[key])).toThrow(/eventRetentionDays/);
    expect(loadStackConfig((key) => ({ eventRetentionDays: '90' })[key]).eventRetentionDays).toBe(90);
    expect(loadStackConfig(() => undefined).eventRetentionDays).toBe(30);
  });
});
