import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { SERVICE_NAME } from '../../lambdas/topology';
import type { Functions } from './functions';
import { pascal } from './naming';

/**
 * EventBridge's delivery of a tick to Lambda (throttling, service errors): a couple of retries within the hour.
 * An older tick is worthless (the next one comes within minutes), in EventBridge's retries as in Lambda's
 * asynchronous-invocation queue.
 */
const DELIVERY_RETRY_ATTEMPTS = 2;
const DELIVERY_MAX_EVENT_AGE = Duration.hours(1);

export interface SchedulesProps {
  functions: Functions;
}

/**
 * One EventBridge rule per `SCHEDULES` entry, invoking the handler's function asynchronously at a fixed rate.
 *
 * Lambda's own retry of a failed asynchronous run is off: a scheduled handler's retry is its next tick, and a
 * retried run (up to its whole interval long) would overlap that tick. Failures still page through the
 * function's Errors alarm and the handler's own metrics (e.g. ReconciliationFailures).
 */
export class Schedules extends Construct {
  readonly rules: Rule[] = [];

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    const seen = new Set<string>();
    for (const { plan, fn } of props.functions.all) {
      if (plan.schedules.length === 0) continue;
      for (const schedule of plan.schedules) {
        if (!Number.isInteger(schedule.rateMinutes) || schedule.rateMinutes < 1) {
          throw new Error(`schedule of ${plan.handler}: rateMinutes must be a whole number ≥ 1 (got ${schedule.rateMinutes})`);
        }
        const ruleId = `${pascal(plan.handler)}Every${schedule.rateMinutes}Minutes`;
        if (seen.has(ruleId)) throw new Error(`duplicate schedule: ${plan.handler} every ${schedule.rateMinutes} min`);
        seen.add(ruleId);
        const rule = new Rule(this, ruleId, {
          description: `${SERVICE_NAME} ${plan.handler} every ${schedule.rateMinutes} min`,
          schedule: Schedule.rate(Duration.minutes(schedule.rateMinutes)),
          targets: [new LambdaFunction(fn, { retryAttempts: DELIVERY_RETRY_ATTEMPTS, maxEventAge: DELIVERY_MAX_EVENT_AGE })],
        });
        this.rules.push(rule);
      }
      fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: DELIVERY_MAX_EVENT_AGE });
    }
  }
}
