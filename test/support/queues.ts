import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { eventually, type TestStack } from './stack';

/** Visible and in-flight message counts of one queue, as SQS reports them (strings; undefined if absent). */
export async function queueDepth(stack: TestStack, queueUrl: string): Promise<{ visible: string | undefined; inFlight: string | undefined }> {
  const depth = await stack.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: depth.Attributes?.ApproximateNumberOfMessages, inFlight: depth.Attributes?.ApproximateNumberOfMessagesNotVisible };
}

/**
 * Waits until the queue is empty (visible and in flight) and no poller holds a message: the point after which a
 * test may read what the consumers did. `timeoutMs` defaults to eventually()'s.
 */
export async function queueDrained(stack: TestStack, queueUrl: string, timeoutMs?: number): Promise<void> {
  await eventually(async () => {
    await stack.service.idle();
    const { visible, inFlight } = await queueDepth(stack, queueUrl);
    return visible === '0' && inFlight === '0' ? true : undefined;
  }, timeoutMs);
  await stack.service.idle();
}
