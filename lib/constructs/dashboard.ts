import { Aws, Duration } from 'aws-cdk-lib';
import type { HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AlarmStatusWidget,
  Dashboard as CloudWatchDashboard,
  GraphWidget,
  MathExpression,
  Stats,
  type IAlarm,
  type IMetric,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUES, dlqName, type ApiName, type HandlerName, type QueueKey } from '../../lambdas/topology';
import { API_NAMES } from '../topology';
import { serviceMetric, type ServiceMetricName } from './alarms';
import type { Functions } from './functions';
import { streamFailuresName, type QueuePair } from './queues';

/** The dashboard's business panels, one graph each, in this order. */
type Panel = 'callbacks' | 'd1' | 'jobs' | 'tokenUpdates' | 'credentials' | 'reconciliation' | 'rejected' | 'events' | 'webhooks';

const PANEL_TITLES: Record<Panel, string> = {
  callbacks: 'D1 callbacks (notifyVirtualCardChange)',
  d1: 'LCM operations toward D1 (updateCardState)',
  jobs: 'Bulk jobs: cards started and settled',
  tokenUpdates: 'Network-token updates (notify-token-update)',
  credentials: 'Network-token credentials',
  reconciliation: 'Reconciliation with D1',
  rejected: 'Rejected requests (4xx)',
  events: 'Events published',
  webhooks: 'Webhook deliveries by outcome',
};

/**
 * Where each service metric is graphed. A Record, so a metric added to SERVICE_METRICS (lib/constructs/alarms.ts)
 * does not compile until someone puts it on the dashboard.
 */
export const DASHBOARD_PANEL_OF: Record<ServiceMetricName, Panel> = {
  CallbacksReceived: 'callbacks',
  CallbacksApplied: 'callbacks',
  CallbacksDuplicate: 'callbacks',
  CallbacksSuperseded: 'callbacks',
  CallbacksFailed: 'callbacks',
  CallbacksIgnored: 'callbacks',
  CallbackRecordFailures: 'callbacks',
  OperationsRequested: 'd1',
  OperationsSubmitted: 'd1',
  D1Attempts: 'd1',
  D1Retries: 'd1',
  D1LateAnswers: 'd1',
  D1Unavailable: 'd1',
  D1PaceWaits: 'd1',
  OperationsRejectedByD1: 'd1',
  TokenUpdatesReceived: 'tokenUpdates',
  TokenUpdatesApplied: 'tokenUpdates',
  TokenUpdatesDuplicate: 'tokenUpdates',
  TokenUpdatesStale: 'tokenUpdates',
  TokenUpdateRecordFailures: 'tokenUpdates',
  TokenPansDropped: 'tokenUpdates',
  TokenPanReads: 'credentials',
  TransactionsCreated: 'credentials',
  ReconciliationCorrections: 'reconciliation',
  OperationsSettledByReconciliation: 'reconciliation',
  ReconciliationFailures: 'reconciliation',
  RejectedRequests: 'rejected',
  EventsPublished: 'events',
  WebhookDelivered: 'webhooks',
  WebhookRetried: 'webhooks',
  WebhookParked: 'webhooks',
  WebhookDropped: 'webhooks',
  JobsCreated: 'jobs',
  JobCardsStarted: 'jobs',
  JobCardsSettled: 'jobs',
  JobAttemptsRequeued: 'jobs',
  JobsStalled: 'jobs',
};

const API_TITLES: Record<ApiName, string> = {
  webhooks: 'Webhook ack latency to D1 (webhooks API, ms)',
  backoffice: 'Back-office API latency (ms)',
};

export interface DashboardProps {
  stages: Record<ApiName, HttpStage>;
  queues: Record<QueueKey, QueuePair>;
  /** The on-failure queue of each table-stream consumer, graphed with the DLQs. */
  streamFailures: Partial<Record<HandlerName, IQueue>>;
  functions: Functions;
  alarms: readonly IAlarm[];
  /** D1_MAX_TPS: the line the D1 call rate must stay under. */
  d1MaxTps: number;
}

const FULL = 24;
const HEIGHT = 6;

/** Rows of `n` graphs, each a third (n = 3) of the width. */
const rowsOf = (n: number, widgets: readonly IWidget[]): IWidget[][] =>
  Array.from({ length: Math.ceil(widgets.length / n) }, (_, i) => widgets.slice(i * n, (i + 1) * n));

/**
 * One CloudWatch dashboard for the service (DESIGN §7): how fast D1's webhooks are acknowledged, what the
 * business outcomes are (the Powertools EMF metrics of SERVICE_METRICS, all of them), DLQ depth, Lambda errors
 * and throttles per function, how far the event publisher is behind the table's stream, how old the oldest message
 * of each queue is, and the state of every alarm. Named `<stack>-<region>`: dashboards are global to
 * an account, so the region keeps two deployments of the stack apart.
 */
export class Dashboard extends Construct {
  readonly dashboard: CloudWatchDashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const { stages, queues, streamFailures, functions, alarms } = props;
    const fiveMinutes = Duration.minutes(5);
    const oneMinute = Duration.minutes(1);

    const latency: IWidget[] = (['webhooks', 'backoffice'] as const satisfies readonly ApiName[]).map((api) => {
      const stage = stages[api];
      // Latency: API Gateway receiving the request to answering it (what D1 waits for); IntegrationLatency: the Lambda's share.
      const pct = (metric: 'Latency' | 'IntegrationLatency', percentile: 50 | 99) => {
        const options = { statistic: Stats.percentile(percentile), period: oneMinute, label: `${metric} p${percentile}` };
        return metric === 'Latency' ? stage.metricLatency(options) : stage.metricIntegrationLatency(options);
      };
      return new GraphWidget({
        title: API_TITLES[api],
        width: FULL / API_NAMES.length,
        height: HEIGHT,
        left: [pct('Latency', 50), pct('Latency', 99), pct('IntegrationLatency', 50), pct('IntegrationLatency', 99)],
        leftYAxis: { min: 0, label: 'ms', showUnits: false },
      });
    });

    const panels = Object.keys(PANEL_TITLES) as Panel[];
    const business: IWidget[] = panels.map((panel) => {
      const names = (Object.keys(DASHBOARD_PANEL_OF) as ServiceMetricName[]).filter((name) => DASHBOARD_PANEL_OF[name] === panel);
      return new GraphWidget({
        title: `${PANEL_TITLES[panel]} — count per 5 min`,
        width: FULL / 3,
        height: HEIGHT,
        left: names.map((name) => serviceMetric(name, fiveMinutes).with({ label: name })),
        leftYAxis: { min: 0, showUnits: false },
      });
    });

    const dlqDepth = new GraphWidget({
      title: 'DLQ depth (messages visible, max per minute)',
      width: FULL / 3,
      height: HEIGHT,
      left: [
        ...(Object.keys(QUEUES) as QueueKey[]).map((key) =>
          queues[key].dlq.metricApproximateNumberOfMessagesVisible({ period: oneMinute, statistic: Stats.MAXIMUM, label: dlqName(QUEUES[key]) }),
        ),
        ...(Object.entries(streamFailures) as [HandlerName, IQueue][]).map(([handler, failures]) =>
          failures.metricApproximateNumberOfMessagesVisible({ period: oneMinute, statistic: Stats.MAXIMUM, label: streamFailuresName({ handler }) }),
        ),
      ],
      leftYAxis: { min: 0, showUnits: false },
    });

    // How far behind the table's stream each consumer reads: the age of the last record of its last batch.
    const streamConsumers = functions.all.filter(({ plan }) => plan.tableStream);
    const eventLag = new GraphWidget({
      title: 'Event lag: table-stream IteratorAge (ms, per minute)',
      width: FULL / 3,
      height: HEIGHT,
      left: streamConsumers.flatMap(({ plan, fn }) =>
        (['p50', 'Maximum'] as const).map((stat) =>
          fn.metric('IteratorAge', { period: oneMinute, statistic: stat === 'p50' ? Stats.percentile(50) : Stats.MAXIMUM, label: `${plan.id} ${stat}` }),
        ),
      ),
      leftYAxis: { min: 0, label: 'ms', showUnits: false },
    });
    const queueAge = new GraphWidget({
      title: 'Oldest message per queue (s, max per minute)',
      width: FULL / 3,
      height: HEIGHT,
      left: (Object.keys(QUEUES) as QueueKey[]).map((key) =>
        queues[key].queue.metricApproximateAgeOfOldestMessage({ period: oneMinute, statistic: Stats.MAXIMUM, label: QUEUES[key].localName }),
      ),
      leftYAxis: { min: 0, label: 's', showUnits: false },
    });

    // A bulk job's pace: close to D1_MAX_TPS × 60 started per minute while it runs, settled following behind.
    const jobPace = new GraphWidget({
      title: 'Bulk job cards started and settled (per minute)',
      width: FULL / 3,
      height: HEIGHT,
      left: (['JobCardsStarted', 'JobCardsSettled'] as const).map((name) => serviceMetric(name, oneMinute).with({ label: name })),
      leftYAxis: { min: 0, showUnits: false },
    });

    const perFunction = (title: string, metric: (fn: Functions['all'][number]) => IMetric) =>
      new GraphWidget({
        title,
        width: FULL / 3,
        height: HEIGHT,
        left: functions.all.map(metric),
        leftYAxis: { min: 0, showUnits: false },
      });
    const errors = perFunction('Lambda errors per function (sum per 5 min)', ({ plan, fn }) =>
      fn.metricErrors({ period: fiveMinutes, statistic: Stats.SUM, label: plan.id }),
    );
    const throttles = perFunction('Lambda throttles per function (sum per 5 min)', ({ plan, fn }) =>
      fn.metricThrottles({ period: fiveMinutes, statistic: Stats.SUM, label: plan.id }),
    );

    // EMF metrics are per minute: calls per second is the minute's sum over 60 (a sliding-second peak can be higher
    // than the average; the pace holds the peak, this shows how much of the budget is used).
    const d1Pace = new GraphWidget({
      title: 'D1 calls per second vs D1_MAX_TPS',
      width: FULL / 3,
      height: HEIGHT,
      left: [
        new MathExpression({
          expression: 'attempts / PERIOD(attempts)',
          usingMetrics: { attempts: serviceMetric('D1Attempts', oneMinute) },
          period: oneMinute,
          label: 'updateCardState calls/s (D1Attempts)',
        }),
      ],
      leftAnnotations: [{ value: props.d1MaxTps, label: `D1_MAX_TPS (${props.d1MaxTps})` }],
      leftYAxis: { min: 0, label: 'calls/s', showUnits: false },
    });

    const alarmStatus = new AlarmStatusWidget({ title: 'Alarms', alarms: [...alarms], width: FULL, height: HEIGHT });

    this.dashboard = new CloudWatchDashboard(this, 'Dashboard', {
      dashboardName: `${Aws.STACK_NAME}-${Aws.REGION}`,
      defaultInterval: Duration.hours(3),
      widgets: [[alarmStatus], latency, ...rowsOf(3, business), [dlqDepth, errors, throttles], [eventLag, queueAge, jobPace], [d1Pace]],
    });
  }
}
