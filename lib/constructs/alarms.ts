import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, QUEUES, SERVICE_NAME, dlqName, type QueueKey } from '../../lambdas/topology';
import type { Functions } from './functions';
import { pascal } from './naming';
import type { QueuePair } from './queues';

export interface AlarmsProps {
  queues: Record<QueueKey, QueuePair>;
  functions: Functions;
  alarmTopicArn?: string;
}

/**
 * Alarms on what needs a human (DESIGN §7): a message in any DLQ (a consumer crashed on it repeatedly), any
 * Lambda error, and rejected webhooks (D1 does not retry a 4xx, so each one is a lost notification). No data is
 * an OK state: quiet queues and idle functions must not page anyone.
 */
export class Alarms extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    const topic = props.alarmTopicArn ? Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn) : undefined;
    const anyAbove0 = (alarmId: string, metric: IMetric, description: string) => {
      const alarm = new Alarm(this, alarmId, {
        metric,
        alarmDescription: description,
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
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
      anyAbove0(
        `${pascal(dlqName(QUEUES[key]))}NotEmpty`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        `Messages in ${dlqName(QUEUES[key])}: the ${QUEUES[key].localName} consumer failed on them ${QUEUES[key].maxReceiveCount} times. Inspect, fix, redrive.`,
      );
    }
    for (const { plan, fn } of props.functions.all) {
      anyAbove0(
        `${plan.id}Errors`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        `The ${plan.handler} Lambda${plan.api ? ` (${plan.api} API)` : ''} threw or timed out.`,
      );
    }
    // Emitted by lambdas/http/route.ts (Powertools Metrics: namespace + default `service` dimension).
    anyAbove0(
      'RejectedRequests',
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'RejectedRequests',
        dimensionsMap: { service: SERVICE_NAME },
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
      'A request was rejected with a 4xx (validation or authentication). For D1 webhooks the notification is lost: D1 does not retry a 4xx.',
    );
  }
}
