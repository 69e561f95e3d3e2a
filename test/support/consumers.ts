import type { HandlerName } from '../../lambdas/topology';
import type { ConsumerLoader } from '../../local/service';
import type { SqsHandler } from '../../local/sqs-poller';

/**
 * Test hooks for startTestStack's `loadConsumer`: the real consumers, wrapped only to show the test the message
 * bodies they were handed (so a test can wait for, or assert on, what reached a consumer).
 */

/** The real consumer `name`, handing each record's body to `onBody` before it runs. */
async function spiedConsumer(name: HandlerName, onBody: (body: string) => void): Promise<SqsHandler> {
  const real = ((await import(`../../lambdas/handlers/${name}`)) as { handler: SqsHandler }).handler;
  return async (event, context) => {
    for (const record of event.Records) onBody(record.body);
    return real(event, context);
  };
}

/** Every poller, whatever its queue, runs the spied apply-virtual-card-change (these files only feed issuerCallbacks). */
export function spyOnIssuerCallbacks(consumed: string[]): ConsumerLoader {
  return () => spiedConsumer('apply-virtual-card-change', (body) => consumed.push(body));
}

/** Each poller runs its own real consumer; `onBody` sees the bodies of every consumer, or of `only` when given. */
export function spyOnConsumers(onBody: (consumer: HandlerName, body: string) => void, only?: HandlerName): ConsumerLoader {
  return async (name) => {
    if (only !== undefined && name !== only) return ((await import(`../../lambdas/handlers/${name}`)) as { handler: SqsHandler }).handler;
    return spiedConsumer(name, (body) => onBody(name, body));
  };
}
