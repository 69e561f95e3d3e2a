import * as fs from 'node:fs';
import * as path from 'node:path';
import { ITERATOR_AGE_ALARM, METRIC_ALARMS, SERVICE_METRICS, type ServiceMetricName } from '../../lib/constructs/alarms';
import { METRICS_NAMESPACE, QUEUES, SERVICE_NAME, type QueueKey } from '../../lambdas/topology';
import { ALARM_TOPIC, resources, useInfraStacks } from '../support/infra-stack';

/** Infra: the CloudWatch alarms and where they notify. Stacks and helpers: test/support/infra-stack.ts. */
const { service, extended, cases } = useInfraStacks();

describe.each(cases)('%s', (_name, get) => {
  test('alarms: one per DLQ and stream on-failure queue on visible messages, one per function on Errors, one per stream consumer on IteratorAge, missing data not breaching', () => {
    const s = get();
    const all = resources(s, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    // IteratorAge (how far a table-stream consumer is behind) is a duration over several periods: test/infra/events.test.ts.
    const iteratorAge = all.filter((a) => a.MetricName === 'IteratorAge');
    expect(iteratorAge).toHaveLength(s.topology.tableStreamConsumers.length);
    for (const alarm of iteratorAge) {
      expect(alarm).toMatchObject({
        TreatMissingData: 'notBreaching',
        Threshold: ITERATOR_AGE_ALARM.thresholdMs,
        EvaluationPeriods: ITERATOR_AGE_ALARM.minutes,
      });
    }
    const alarms = all.filter((a) => a.MetricName !== 'IteratorAge');
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        TreatMissingData: 'notBreaching',
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        EvaluationPeriods: 1,
      });
    }
    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      const dlqAlarms = alarms.filter(
        (a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && a.Dimensions[0].Value['Fn::GetAtt'][0] === s.id(s.stack.queues.byKey[key].dlq),
      );
      expect(dlqAlarms).toHaveLength(1);
    }
    for (const consumer of s.topology.tableStreamConsumers) {
      const failuresId = s.id(s.stack.queues.streamFailures[consumer.handler]!);
      const failureAlarms = alarms.filter(
        (a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && a.Dimensions[0].Value['Fn::GetAtt'][0] === failuresId,
      );
      expect(failureAlarms).toHaveLength(1);
    }
    const errorAlarms = alarms.filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === 'Errors').map((a) => a.Dimensions[0].Value.Ref);
    expect(errorAlarms.sort()).toEqual(
      resources(s, 'AWS::Lambda::Function')
        .map(([id]) => id)
        .sort(),
    );
    const metricAlarms = alarms.filter((a) => a.Namespace === METRICS_NAMESPACE);
    expect(metricAlarms.map((a) => a.MetricName).sort()).toEqual(Object.keys(METRIC_ALARMS).sort());
    expect(alarms).toHaveLength(Object.keys(QUEUES).length + s.topology.tableStreamConsumers.length + errorAlarms.length + metricAlarms.length);
  });
});

describe('metric alarms', () => {
  test.each(['D1Unavailable', 'CallbackRecordFailures', 'OperationsRejectedByD1', 'RejectedRequests', 'TokenUpdateRecordFailures', 'ReconciliationFailures'])(
    '%s: Sum over 5 min ≥ 1 on the service metric',
    (metricName) => {
      const alarms = resources(service, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === metricName);
      expect(alarms).toHaveLength(1);
      expect(alarms[0]![1].Properties).toMatchObject({
        Namespace: 'TokenLifecycle',
        Dimensions: [{ Name: 'service', Value: 'token-lifecycle' }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
      expect([METRICS_NAMESPACE, SERVICE_NAME]).toEqual(['TokenLifecycle', 'token-lifecycle']);
    },
  );

  test('every metric name lib/ knows is emitted by the Lambda code (a literal in lambdas/)', () => {
    const root = path.join(__dirname, '..', '..', 'lambdas');
    const sources = (fs.readdirSync(root, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts') && !f.startsWith(`local${path.sep}`))
      .map((f) => fs.readFileSync(path.join(root, f), 'utf8'))
      .join('\n');
    // The events-out metrics are alarmed and graphed before their handlers are written: each is excused only while
    // the entry module that will emit it does not exist, so the check binds as soon as that handler lands.
    const emitterOf: Partial<Record<ServiceMetricName, string>> = {
      EventsPublished: 'publish-events',
      WebhookDelivered: 'deliver-webhook',
      WebhookRetried: 'deliver-webhook',
      WebhookParked: 'deliver-webhook',
      WebhookDropped: 'deliver-webhook',
    };
    const notWrittenYet = (name: ServiceMetricName) => {
      const handler = emitterOf[name];
      return handler !== undefined && !fs.existsSync(path.join(root, 'handlers', `${handler}.ts`));
    };
    const missing = SERVICE_METRICS.filter((name) => !sources.includes(`'${name}'`) && !notWrittenYet(name));
    expect(missing).toEqual([]);
  });
});

describe('configuration-specific wiring', () => {
  test('alarmTopicArn: every alarm notifies the topic on ALARM and OK; without it, no actions', () => {
    for (const [, alarm] of resources(extended, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toEqual([ALARM_TOPIC]);
      expect(alarm.Properties.OKActions).toEqual([ALARM_TOPIC]);
    }
    for (const [, alarm] of resources(service, 'AWS::CloudWatch::Alarm')) expect(alarm.Properties.AlarmActions).toBeUndefined();
  });
});
