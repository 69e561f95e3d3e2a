import { Stack } from 'aws-cdk-lib';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import type { EnvKey } from '../../lambdas/config/env';
import { SERVICE_NAME } from '../../lambdas/topology';

/** The env var that carries the bus name to a Lambda; a handler whose env lists it may put events on this bus only. */
export const EVENT_BUS_ENV_VAR = 'EVENT_BUS_NAME' satisfies EnvKey;

/**
 * The stack's EventBridge custom bus (DESIGN §8): every event is also put here (`source` token-lifecycle,
 * `detail-type` = the event type) so AWS-native consumers attach their own rules to it.
 *
 * Named `<stack name>-events`, predictable for those rules and distinct per deployment in one account and region.
 * No resource policy: putting events needs the role grant lib/constructs/functions.ts writes (`events:PutEvents` on
 * this bus), and rules are created by principals of this account. Deleting the stack fails while other stacks'
 * rules are on the bus, which is what should happen: their consumers would lose their events.
 */
export class ServiceEventBus extends Construct {
  readonly bus: IEventBus;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', {
      eventBusName: `${Stack.of(this).stackName}-events`,
      description: `${SERVICE_NAME}: every published event (source ${SERVICE_NAME}, detail-type = the event type)`,
    });
  }
}
