/**
 * Dead-letter queue handling: look at what a DLQ holds without printing card data, and move it back to its source
 * queue. (primary adapter) scripts/dlq.ts → these use cases → `DeadLetters` (ports/dead-letters.ts).
 *
 * Our rules: a listing shows ids only, masked; a DLQ is redriven only into the queue whose RedrivePolicy names it
 * (anything else would feed one consumer another's messages); a dry run moves nothing. The moving itself is SQS's
 * (a message move task); a message it delivers twice is applied once, because every consumer dedupes (DESIGN §2
 * rule 2 for callbacks, rule 10 for token updates, the operation's status for submissions).
 */

import { maskDigitRuns } from '../domain/card-data';
import type { DeadLetter, DeadLetters, MoveTask, QueueFacts, QueueRef } from '../ports/dead-letters';

/** Only these keys of a body are ever shown; everything else (tokenInfo, cardArt, digits, dates…) is not. */
const SUMMARY_FIELDS = ['correlationId', 'virtualCardId', 'tokenId', 'operationId', 'action', 'attempt', 'subscriptionId', 'parkedAt'] as const;
const MAX_SHOWN_CHARS = 80;

/** Ids a human needs to act on a message. */
export type SafeSummary = Partial<Record<(typeof SUMMARY_FIELDS)[number] | 'eventId' | 'eventType', string>> & {
  /** Set when the body is not a JSON object: nothing of it is shown. */
  unparseable?: true;
};

/** What `list` shows of a message: the SQS facts and the safe summary, never the body. */
export type ListedMessage = Omit<DeadLetter, 'body'> & { sizeBytes: number; summary: SafeSummary };

function safeValue(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return maskDigitRuns(String(value));
  if (typeof value !== 'string') return undefined;
  // Control characters could rewrite the operator's terminal; long values are cut after the masking.
  // eslint-disable-next-line no-control-regex -- that is the point
  const printable = maskDigitRuns(value).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, '?');
  return printable.length > MAX_SHOWN_CHARS ? `${printable.slice(0, MAX_SHOWN_CHARS)}…` : printable;
}

/** The ids of a queue message body, masked; never any other field, whatever the body holds. */
export function summarizeBody(body: string): SafeSummary {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { unparseable: true };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { unparseable: true };
  const summary: SafeSummary = {};
  for (const field of SUMMARY_FIELDS) {
    const value = Object.hasOwn(parsed, field) ? safeValue((parsed as Record<string, unknown>)[field]) : undefined;
    if (value !== undefined) summary[field] = value;
  }
  // A webhook delivery: the event's id and type, never its data.
  const event = (parsed as Record<string, unknown>).event;
  if (event !== null && typeof event === 'object' && !Array.isArray(event)) {
    for (const [field, key] of [
      ['eventId', 'id'],
      ['eventType', 'type'],
    ] as const) {
      const value = Object.hasOwn(event, key) ? safeValue((event as Record<string, unknown>)[key]) : undefined;
      if (value !== undefined) summary[field] = value;
    }
  }
  return summary;
}

export const describeDeadLetter = ({ body, ...facts }: DeadLetter): ListedMessage => ({
  ...facts,
  sizeBytes: Buffer.byteLength(body, 'utf8'),
  summary: summarizeBody(body),
});

/** A redrive (or listing) this service will not do; the message says why. */
export class DeadLetterRefusal extends Error {
  override name = 'DeadLetterRefusal';
}

export const queueNameOf = (urlOrArn: string): string =>
  urlOrArn.startsWith('arn:') ? urlOrArn.split(':').pop()! : decodeURIComponent(new URL(urlOrArn).pathname.split('/').filter(Boolean).pop() ?? urlOrArn);

export type ResolvedQueues = { source: QueueRef; dlq: QueueRef };

/**
 * The DLQ of a source queue is the one its RedrivePolicy names (where SQS really puts the messages); a DLQ given
 * explicitly must be that one.
 */
export async function resolveQueues(port: DeadLetters, sourceUrl: string, dlqUrl: string | undefined): Promise<ResolvedQueues> {
  const source = await port.describe(sourceUrl);
  const targetArn = source.deadLetterTargetArn;
  if (!targetArn) throw new DeadLetterRefusal(`${queueNameOf(sourceUrl)} has no RedrivePolicy, so no DLQ`);
  if (dlqUrl && (await port.describe(dlqUrl)).arn !== targetArn) {
    throw new DeadLetterRefusal(`${queueNameOf(dlqUrl)} is not the DLQ of ${queueNameOf(sourceUrl)} (its RedrivePolicy names ${targetArn})`);
  }
  // arn:aws:sqs:<region>:<account>:<name>
  const [, , , , account, name] = targetArn.split(':');
  const url = dlqUrl ?? (await port.queueUrl(name!, account));
  if (!url) throw new DeadLetterRefusal(`the DLQ ${targetArn} of ${queueNameOf(sourceUrl)} does not exist`);
  return { source: { url: sourceUrl, arn: source.arn }, dlq: { url, arn: targetArn } };
}

export interface ListResult {
  depth: QueueFacts;
  messages: ListedMessage[];
}

/** `list`: the DLQ's depth, then up to `max` messages described safely. Moves and deletes nothing. */
export async function listDeadLetters(port: DeadLetters, dlqUrl: string, max: number): Promise<ListResult> {
  const depth = await port.describe(dlqUrl);
  return { depth, messages: (await port.peek(dlqUrl, max)).map(describeDeadLetter) };
}

export type RedriveResult = ({ dryRun: true } & ListResult) | { dryRun: false; task: MoveTask };

/**
 * `redrive`: a move task from the DLQ back to its source queue (the whole DLQ, at most `maxPerSecond` a second if
 * given). `dryRun` lists what would move instead (up to `max`) and moves nothing.
 */
export async function redriveDeadLetters(
  port: DeadLetters,
  queues: ResolvedQueues,
  options: { dryRun: boolean; max: number; maxPerSecond?: number | undefined },
): Promise<RedriveResult> {
  if (options.dryRun) return { dryRun: true, ...(await listDeadLetters(port, queues.dlq.url, options.max)) };
  return { dryRun: false, task: await port.startMove(queues.dlq, queues.source, options.maxPerSecond) };
}

/** `cancel`: stops the DLQ's running move task; what it moved so far stays moved. */
export async function cancelRedrive(port: DeadLetters, dlqArn: string): Promise<{ task: MoveTask; moved: number }> {
  const task = (await port.moveTasks(dlqArn)).find((t) => t.status === 'RUNNING' && t.taskHandle);
  if (!task) throw new DeadLetterRefusal(`no running move task on ${queueNameOf(dlqArn)}`);
  return { task, moved: await port.cancelMove(task.taskHandle!) };
}
