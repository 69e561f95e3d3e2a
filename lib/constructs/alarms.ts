import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, QUEUES, SERVICE_NAME, dlqName, type HandlerName, type QueueKey } from '../../lambdas/topology';
import type { Topology } from '../topology';
import type { Functions } from './functions';
import { pascal } from './naming';
import { dlqEnvVar, streamFailuresName, type QueuePair } from './queues';

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
  // An attempt put back on its queue because D1_MAX_TPS was spent for the next ~second (DESIGN §9).
  'D1PaceWaits',
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
  // Events out (DESIGN §8): events the publisher published (one per event, whatever its fan-out), and per webhook
  // delivery attempt its outcome: delivered (2xx), retried later, parked in the webhook-deliveries DLQ after 24 h of
  // retries, or dropped (neither retried nor parked).
  'EventsPublished',
  'WebhookDelivered',
  'WebhookRetried',
  'WebhookParked',
  'WebhookDropped',
  // Bulk jobs (DESIGN §9): jobs created, cards the job runner started and cards whose operation became final (per
  // tick), first attempts it queued again for operations that lost theirs, and ticks of a job that is not moving.
  'JobsCreated',
  'JobCardsStarted',
  'JobCardsSettled',
  'JobAttemptsRequeued',
  'JobsStalled',
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
  // A RUNNING job with nothing in flight that is not complete: its tick found cards left to start (by the counts) but
  // none QUEUED. The other ways a RUNNING job stops moving are alarmed already: a tick chain that died leaves its
  // message in the lcm-jobs DLQ, and a runner that throws counts as Lambda errors.
  JobsStalled:
    'A bulk job is RUNNING with cards left to start (by its counts) but none QUEUED and nothing in flight: it does not move. ' +
    'Check the job (GET /v1/lcm-jobs/{jobId}, its cards by status) and the job-runner logs; cancelling it closes it.',
  ReconciliationFailures:
    'The scheduled reconciliation sweep could not reconcile some cards with overdue LCM operations (D1 getCardInfo unavailable ' +
    'or refused, or a write failed). They stay overdue and are retried on the next sweep; check the reconcile-sweep logs and D1 reachability.',
};

/** A table-stream consumer this far behind (the age of the last record it read) for this long pages someone. */
export const ITERATOR_AGE_ALARM = { thresholdMs: 60_000, minutes: 5 } as const;

export interface AlarmsProps {
  queues: Record<QueueKey, QueuePair>;
  /** The on-failure queue of each table-stream consumer (lib/constructs/queues.ts). */
  streamFailures: Partial<Record<HandlerName, IQueue>>;
  functions: Functions;
  /** Which handlers park messages in a DLQ themselves (their env lists its URL), for the DLQ alarm's description. */
  topology: Topology;
  alarmTopicArn?: string;
}

/**
 * Alarms on what needs a human (DESIGN §7): a message in any DLQ (a consumer crashed on it repeatedly, or a handler
 * parked it there), any Lambda error, each service metric of METRIC_ALARMS (rejected webhooks, unrecorded callbacks
 * and token updates, operations D1 rejected or never answered, failed reconciliations; DESIGN §4), and for each
 * table-stream consumer (the event publisher, DESIGN §8) a batch it gave up on and a stream it has fallen behind.
 * Every alarm but the last fires on a count ≥ 1 in one period. No data is an OK state: quiet queues and idle
 * functions must not page anyone.
 */
export class Alarms extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const topic = props.alarmTopicArn ? Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) : undefined;
    const notify = (alarm: Alarm) => {
      if (topic) {
        alarm.addAlarmAction(new SnsAction(topic));
        alarm.addOkAction(new SnsAction(topic));
      }
      this.alarms.push(alarm);
    };
    const atLeastOne = (alarmId: string, metric: IMetric, description: string) =>
      notify(
        new Alarm(this, alarmId, {
          metric,
          alarmDescription: description,
          threshold: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );

    const handlers = Object.keys(props.topology.handlers) as HandlerName[];
    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      const { dlq } = props.queues[key];
      // Handlers that send to this DLQ themselves (e.g. webhook deliveries that failed for 24 h), if any.
      const parkers = handlers.filter((h) => (props.topology.handlers[h].env as readonly string[]).includes(dlqEnvVar(QUEUES[key])));
      atLeastOne(
        `${pascal(dlqName(QUEUES[key]))}NotEmpty`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        `Messages in ${dlqName(QUEUES[key])}: the ${QUEUES[key].localName} consumer failed on them ${QUEUES[key].maxReceiveCount} times` +
          (parkers.length > 0 ? `, or ${parkers.join(', ')} parked them there` : '') +
          '. Inspect, fix, redrive (npm run dlq).',
      );
    }
    for (const [handler, failures] of Object.entries(props.streamFailures) as [HandlerName, IQueue][]) {
      atLeastOne(
        `${pascal(streamFailuresName({ handler }))}NotEmpty`,
        failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        `Messages in ${streamFailuresName({ handler })}: ${handler} gave up on table-stream records after its retries; the changes they ` +
          'describe were not published. Each message names the shard and sequence numbers; the records stay in the stream only 24 h.',
      );
    }
    for (const { plan, fn } of props.functions.all) {
      if (!plan.tableStream) continue;
      notify(
        new Alarm(this, `${plan.id}IteratorAge`, {
          metric: fn.metric('IteratorAge', { period: Duration.minutes(1), statistic: 'Maximum' }),
          alarmDescription:
            `${plan.handler} is more than ${ITERATOR_AGE_ALARM.thresholdMs / 1000} s behind the table's stream for ${ITERATOR_AGE_ALARM.minutes} minutes: ` +
            'changes are being published late (a failing record being retried holds back its shard, or the consumer is throttled or slow). ' +
            'Records older than 24 h leave the stream unpublished.',
          threshold: ITERATOR_AGE_ALARM.thresholdMs,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: ITERATOR_AGE_ALARM.minutes,
          datapointsToAlarm: ITERATOR_AGE_ALARM.minutes,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
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
