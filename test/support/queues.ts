import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { eventually, type TestStack } from './stack';

/** Visible, in-flight and delayed message counts of one queue, as SQS reports them (strings; undefined if absent). */
export interface QueueDepth {
  visible: string | undefined;
  inFlight: string | undefined;
  delayed: string | undefined;
}

export async function queueDepth(stack: TestStack, queueUrl: string): Promise<QueueDepth> {
  const { Attributes: a } = await stack.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return { visible: a?.ApproximateNumberOfMessages, inFlight: a?.ApproximateNumberOfMessagesNotVisible, delayed: a?.ApproximateNumberOfMessagesDelayed };
}

/** No message visible, in flight or delayed (a retry waiting out its DelaySeconds is work still to come). */
export const isEmpty = (depth: QueueDepth): boolean => depth.visible === '0' && depth.inFlight === '0' && (depth.delayed ?? '0') === '0';

/** Every queue of the stack and its DLQ, keyed `<queue key>` and `<queue key>-dlq`. */
export async function queueDepths(stack: TestStack): Promise<Record<string, QueueDepth>> {
  const out: Record<string, QueueDepth> = {};
  for (const [key, q] of Object.entries(stack.resources.queues)) {
    out[key] = await queueDepth(stack, q.url);
    out[`${key}-dlq`] = await queueDepth(stack, q.dlqUrl);
  }
  return out;
}

/**
 * Waits until the queue is empty (visible, in flight and delayed) and no poller holds a message: the point after
 * which a test may read what the consumers did. `timeoutMs` defaults to eventually()'s.
 */
export async function queueDrained(stack: TestStack, queueUrl: string, timeoutMs?: number): Promise<void> {
  await eventually(async () => {
    await stack.service.idle();
    return isEmpty(await queueDepth(stack, queueUrl)) ? true : undefined;
  }, timeoutMs);
  await stack.service.idle();
}

/**
 * queueDrained for every queue the pollers consume (the DLQs are not work in progress): once it resolves, no
 * message of ours is waiting, delayed or being handled, so whatever the consumers were going to do is done. A
 * consumer sends its follow-up (a retry, the next hop) before its own message is deleted, so work moving from one
 * queue to another always shows in one of them; every queue is read twice in a row, each time once the pollers are
 * idle, so a hand-over that fell between two reads of the first pass shows in the second.
 */
export async function queuesDrained(stack: TestStack, timeoutMs?: number): Promise<void> {
  const urls = Object.values(stack.resources.queues).map((q) => q.url);
  const empty = async (): Promise<boolean> => {
    await stack.service.idle();
    return (await Promise.all(urls.map((url) => queueDepth(stack, url)))).every(isEmpty);
  };
  await eventually(async () => ((await empty()) && (await empty()) ? true : undefined), timeoutMs);
}
