import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, QUEUES, SERVICE_NAME, dlqName, type QueueKey } from '../../lambdas/topology';
import type { Functions } from './functions';
import { pascal } from './naming';
import type { QueuePair } from './queues';

/**
 * The service's own metrics, by name. The Lambdas emit them (lambdas/handlers/*.ts, lambdas/composition/*.ts and
 * lambdas/http/route.ts, through the Powertools Metrics instance of lambdas/observability.ts: namespace
 * METRICS_NAMESPACE, default dimension `service` = SERVICE_NAME, unit Count). The names are the contract between that code and the alarms
 * below; this is the one copy in lib/.
 */
export const SERVICE_METRICS = [
  'RejectedRequests',
  'CallbacksReceived',
  'CallbackRecordFailures',
  'CallbacksApplied',
  'CallbacksDuplicate',
  'CallbacksFailed',
  'CallbacksIgnored',
  'CallbacksSuperseded',
  'OperationsRequested',
  'OperationsSubmitted',
  'D1Attempts',
  'D1Retries',
  'D1LateAnswers',
  'OperationsRejectedByD1',
  'D1Unavailable',
  'TokenUpdatesReceived',
  'TokenUpdateRecordFailures',
  'TokenUpdatesApplied',
  'TokenUpdatesDuplicate',
  'TokenUpdatesStale',
  'TokenPansDropped',
  'TokenPanReads',
  'TransactionsCreated',
  'ReconciliationCorrections',
  'OperationsSettledByReconciliation',
  'ReconciliationFailures',
] as const;
export type ServiceMetricName = (typeof SERVICE_METRICS)[number];

/** A service metric as CloudWatch stores it: our namespace, the `service` dimension Powertools adds. */
export const serviceMetric = (metricName: ServiceMetricName, period = Duration.minutes(5)): Metric =>
  new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service: SERVICE_NAME }, period, statistic: 'Sum' });

/** Service metrics that need a human whenever they count anything (Sum over 5 minutes ≥ 1), and why. */
export const METRIC_ALARMS: Partial<Record<ServiceMetricName, string>> = {
  RejectedRequests: 'A request was rejected with a 4xx (validation or authentication). For D1 webhooks the notification is lost: D1 does not retry a 4xx.',
  CallbackRecordFailures:
    'notifyVirtualCardChange could not enqueue a D1 callback and answered 5xx. D1 retries it, but repeated failures mean ' +
    'callbacks are not being recorded: check the issuer-callbacks queue and the webhook Lambda.',
  OperationsRejectedByD1:
    'D1 refused an updateCardState request (4xx): the LCM operation is FAILED and the card/token state did not change. ' +
    'Check the operation (GET /v1/lcm-operations/{operationId}) and the request the back office sent.',
  D1Unavailable:
    'An LCM operation used all its D1 attempts (D1_MAX_ATTEMPTS) without an answer and is FAILED (D1 unavailable). ' +
    'Check D1 reachability and the d1-submitter logs; the card state did not change until the operation is requested again.',
  TokenUpdateRecordFailures:
    'notify-token-update could not enqueue a D1 network-token update and answered 503. D1 retries it, but repeated failures ' +
    'mean token updates (state changes, new token PANs) are not being recorded: check the token-updates queue and the webhook Lambda.',
  ReconciliationFailures:
    'The scheduled reconciliation sweep could not reconcile some cards with overdue LCM operations (D1 getCardInfo unavailable ' +
    'or refused, or a write failed). They stay overdue and are retried on the next sweep; check the reconcile-sweep logs and D1 reachability.',
};

export interface AlarmsProps {
  queues: Record<QueueKey, QueuePair>;
  functions: Functions;
  alarmTopicArn?: string;
}

/**
 * Alarms on what needs a human (DESIGN §7): a message in any DLQ (a consumer crashed on it repeatedly), any
 * Lambda error, and each service metric of METRIC_ALARMS (rejected webhooks, unrecorded callbacks and token
 * updates, operations D1 rejected or never answered, failed reconciliations; DESIGN §4). Every alarm fires on a count ≥ 1 in one period. No data is an OK
 * state: quiet queues and idle functions must not page anyone.
 */
export class Alarms extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const topic = props.alarmTopicArn ? Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) : undefined;
    const atLeastOne = (alarmId: string, metric: IMetric, description: string) => {
      const alarm = new Alarm(this, alarmId, {
        metric,
        alarmDescription: description,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      if (topic) {
        alarm.addAlarmAction(new SnsAction(topic));
        alarm.addOkAction(new SnsAction(topic));
      }
      this.alarms.push(alarm);
    };

    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      const { dlq } = props.queues[key];
      atLeastOne(
        `${pascal(dlqName(QUEUES[key]))}NotEmpty`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        `Messages in ${dlqName(QUEUES[key])}: the ${QUEUES[key].localName} consumer failed on them ${QUEUES[key].maxReceiveCount} times. Inspect, fix, redrive.`,
      );
    }
    for (const { plan, fn } of props.functions.all) {
      atLeastOne(
        `${plan.id}Errors`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        `The ${plan.handler} Lambda${plan.api ? ` (${plan.api} API)` : ''} threw or timed out.`,
      );
    }
    for (const [metricName, description] of Object.entries(METRIC_ALARMS) as [ServiceMetricName, string][]) {
      atLeastOne(metricName, serviceMetric(metricName), description);
    }
  }
}
