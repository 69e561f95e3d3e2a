import { API_NAMES } from '../../lib/topology';
import { SERVICE_METRICS } from '../../lib/constructs/alarms';
import { DASHBOARD_PANEL_OF } from '../../lib/constructs/dashboard';
import { METRICS_NAMESPACE, QUEUES, SERVICE_NAME, type QueueKey } from '../../lambdas/topology';
import { dashboardOf, resources, useInfraStacks } from '../support/infra-stack';

/** Infra: the CloudWatch dashboard. Stacks and helpers: test/support/infra-stack.ts. */
const { cases } = useInfraStacks();

describe.each(cases)('%s', (_name, get) => {
  test('dashboard: API latency p50/p99 and IntegrationLatency per stage, every service metric, each DLQ, Lambda errors/throttles, all alarms', () => {
    const s = get();
    const { id: dashboardId, body, lines } = dashboardOf(s);
    // Each DLQ's depth, by its queue name, and each table-stream consumer's on-failure queue's.
    for (const queue of [...(Object.keys(QUEUES) as QueueKey[]).map((key) => s.stack.queues.byKey[key].dlq), ...Object.values(s.stack.queues.streamFailures)]) {
      expect(lines).toContain(`AWS/SQS ApproximateNumberOfMessagesVisible QueueName=\${${s.id(queue)}.QueueName} Maximum`);
    }
    // Every business metric in our namespace with the Powertools service dimension (the key ones from the brief too).
    expect(Object.keys(DASHBOARD_PANEL_OF).sort()).toEqual([...SERVICE_METRICS].sort());
    const key = [
      'CallbacksApplied',
      'CallbacksDuplicate',
      'CallbacksSuperseded',
      'CallbacksFailed',
      'CallbacksIgnored',
      'D1Attempts',
      'D1Retries',
      'D1Unavailable',
      'OperationsRejectedByD1',
      'TokenUpdatesApplied',
      'TokenUpdatesDuplicate',
      'TokenUpdatesStale',
      'ReconciliationCorrections',
      'OperationsSettledByReconciliation',
      'ReconciliationFailures',
    ];
    for (const name of [...key, ...SERVICE_METRICS]) expect(lines).toContain(`${METRICS_NAMESPACE} ${name} service=${SERVICE_NAME} Sum`);
    // The bulk jobs' pace, per minute.
    const jobPace = body.widgets.find((w) => w.properties.title === 'Bulk job cards started and settled (per minute)');
    expect(jobPace?.properties.metrics.map((m: unknown[]) => [m[1], (m[m.length - 1] as { period?: number }).period])).toEqual([
      ['JobCardsStarted', 60],
      ['JobCardsSettled', 60],
    ]);
    // Latency and IntegrationLatency, p50 and p99, on each API's $default stage.
    for (const api of API_NAMES) {
      for (const metric of ['Latency', 'IntegrationLatency']) {
        for (const stat of ['p50', 'p99']) expect(lines).toContain(`AWS/ApiGateway ${metric} ApiId=\${${s.id(s.stack.api.apis[api])}} Stage=$default ${stat}`);
      }
    }
    // Errors and Throttles of every function.
    for (const { fn } of s.stack.functions.all) {
      for (const metric of ['Errors', 'Throttles']) expect(lines).toContain(`AWS/Lambda ${metric} FunctionName=\${${s.id(fn)}} Sum`);
    }
    // Every alarm on the alarm-status widget.
    const alarmWidgets = body.widgets.filter((w) => w.type === 'alarm');
    expect(alarmWidgets).toHaveLength(1);
    expect([...alarmWidgets[0]!.properties.alarms].sort()).toEqual(
      resources(s, 'AWS::CloudWatch::Alarm')
        .map(([id]) => `\${${id}.Arn}`)
        .sort(),
    );
    expect(s.template.toJSON().Outputs.DashboardName.Value).toEqual({ Ref: dashboardId });
  });

  test('dashboard: D1 calls per second (D1Attempts per minute / 60) against a D1_MAX_TPS line', () => {
    const { body } = dashboardOf(get());
    const widget = body.widgets.find((w) => w.properties.title === 'D1 calls per second vs D1_MAX_TPS');
    expect(widget?.properties.annotations).toEqual({ horizontal: [{ value: 50, label: 'D1_MAX_TPS (50)', yAxis: 'left' }] });
    const series = JSON.stringify(widget?.properties.metrics);
    expect(series).toContain('attempts / PERIOD(attempts)');
    expect(series).toContain(`"${METRICS_NAMESPACE}","D1Attempts","service","${SERVICE_NAME}"`);
  });
});
