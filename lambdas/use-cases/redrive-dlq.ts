/**
 * Dead-letter queue handling (issue 9 item 3): look at what a DLQ holds without printing card data, and move
 * it back to its source queue without losing anything.
 *
 * (primary adapter) scripts/dlq.ts → these use cases → (secondary adapter) SQS, through `DeadLetterPort`
 *
 * Safety argument for `redriveDeadLetters`: every message is sent to the source queue first and deleted from the
 * DLQ only once that send succeeded. A crash (or a failed delete) in between leaves a copy in both queues; the
 * copy is redriven again later and applied once, because every consumer dedupes (DESIGN §2 rule 2 for callbacks,
 * rule 10 for token updates, the operation's status for submissions). Never delete-then-send: a crash there
 * loses the message.
 */

import { maskDigitRuns } from '../domain/card-data';

/** A message received from a DLQ. `messageAttributes` is opaque here: the adapter sends it back unchanged. */
export interface DeadLetter {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** SQS `ApproximateReceiveCount`: the source queue's receives plus the DLQ's (this one included). */
  receiveCount: number | null;
  /** Epoch ms (`SentTimestamp`). */
  sentAt: number | null;
  /** Epoch ms (`ApproximateFirstReceiveTimestamp`). */
  firstReceivedAt: number | null;
  messageAttributes: Readonly<Record<string, unknown>>;
}

export interface QueueDepth {
  visible: number;
  inFlight: number;
  delayed: number;
}

export interface ReceiveOptions {
  max: number;
  visibilityTimeoutSeconds: number;
  waitTimeSeconds: number;
}

export interface DeadLetterPort {
  depth(queueUrl: string): Promise<QueueDepth>;
  /** At most `max` (≤ 10) messages, hidden for `visibilityTimeoutSeconds`. */
  receive(queueUrl: string, options: ReceiveOptions): Promise<DeadLetter[]>;
  /** Sends the same body and message attributes to `queueUrl`; resolves only once SQS accepted it. */
  send(queueUrl: string, message: DeadLetter): Promise<void>;
  delete(queueUrl: string, receiptHandle: string): Promise<void>;
  /** Makes received messages visible again at once (visibility 0), so `list` leaves the DLQ as it found it. */
  release(queueUrl: string, receiptHandles: readonly string[]): Promise<void>;
}

/** Ids a human needs to act on a message: correlationId, virtualCardId, tokenId, operationId, action, attempt. */
export type SafeSummary = Partial<Record<(typeof SUMMARY_FIELDS)[number], string>> & {
  /** Set when the body is not a JSON object: nothing of it is shown. */
  unparseable?: true;
};

export interface ListedMessage {
  messageId: string;
  receiveCount: number | null;
  sentAt: string | null;
  firstReceivedAt: string | null;
  sizeBytes: number;
  summary: SafeSummary;
}

/** Only these keys of a body are ever shown; everything else (tokenInfo, cardArt, digits, dates…) is not. */
const SUMMARY_FIELDS = ['correlationId', 'virtualCardId', 'tokenId', 'operationId', 'action', 'attempt'] as const;
const MAX_SHOWN_CHARS = 80;

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
  return summary;
}

const isoOrNull = (epochMs: number | null): string | null => (epochMs === null || !Number.isFinite(epochMs) ? null : new Date(epochMs).toISOString());

export function describeDeadLetter(message: DeadLetter): ListedMessage {
  return {
    messageId: message.messageId,
    receiveCount: message.receiveCount,
    sentAt: isoOrNull(message.sentAt),
    firstReceivedAt: isoOrNull(message.firstReceivedAt),
    sizeBytes: Buffer.byteLength(message.body, 'utf8'),
    summary: summarizeBody(message.body),
  };
}

export interface ScanOptions {
  /** Stop after this many messages (≥ 1; Infinity = until the DLQ looks empty). */
  max: number;
  /** How long a received message stays hidden while we work on it. */
  visibilityTimeoutSeconds?: number;
  /** Long poll per receive; an empty long poll ends the scan (SQS samples every server when waiting). */
  waitTimeSeconds?: number;
}

const DEFAULT_VISIBILITY_SECONDS = 30;
const DEFAULT_WAIT_SECONDS = 1;

export interface ListResult {
  depth: QueueDepth;
  messages: ListedMessage[];
}

/**
 * `list`: the DLQ's depth, then up to `max` messages described safely. Receiving hides them for
 * `visibilityTimeoutSeconds` so one pass sees each message once; they are released (visible again) at the end,
 * so a `redrive` right after finds them. Deletes nothing.
 */
export async function listDeadLetters(port: DeadLetterPort, dlqUrl: string, options: ScanOptions): Promise<ListResult> {
  const depth = await port.depth(dlqUrl);
  const seen = new Map<string, ListedMessage>();
  const held: string[] = [];
  try {
    while (seen.size < options.max) {
      const batch = await port.receive(dlqUrl, receiveOptions(options, options.max - seen.size));
      if (batch.length === 0) break;
      let fresh = 0;
      for (const message of batch) {
        held.push(message.receiptHandle);
        if (seen.has(message.messageId)) continue; // a standard queue may deliver a message twice
        seen.set(message.messageId, describeDeadLetter(message));
        fresh++;
      }
      // Only messages we already listed: the pass outlived the visibility timeout and came round again.
      if (fresh === 0) break;
    }
  } finally {
    if (held.length > 0) await port.release(dlqUrl, held);
  }
  return { depth, messages: [...seen.values()] };
}

export interface RedriveOptions extends ScanOptions {
  dryRun?: boolean;
  /** Called after each message moved (or listed, in a dry run), for progress output. */
  onMessage?: (message: ListedMessage, outcome: 'moved' | 'would-move') => void;
}

export interface RedriveResult {
  dryRun: boolean;
  depthBefore: QueueDepth;
  /** Sent to the source queue and deleted from the DLQ. */
  moved: number;
  /** Sent, but the DLQ delete failed: the copy left in the DLQ is harmless (consumers dedupe), redrive it again. */
  sentNotDeleted: number;
  /** The send failed: the message stays in the DLQ (visible again once released). The run stops there. */
  sendFailed: number;
  /** In a dry run: what would move (nothing does). */
  listed: ListedMessage[];
  depthAfter: QueueDepth;
  /** First error met, if any (the run stops on a failed send). */
  error?: string;
}

/**
 * `redrive`: moves up to `max` messages from the DLQ back to the source queue — send, then delete, one message
 * at a time. Stops at the first failed send (and releases what it still holds), so a broken source queue does
 * not spin through the whole DLQ. `dryRun` lists instead and moves nothing.
 */
export async function redriveDeadLetters(port: DeadLetterPort, queues: { dlqUrl: string; sourceUrl: string }, options: RedriveOptions): Promise<RedriveResult> {
  if (options.dryRun) {
    const { depth, messages } = await listDeadLetters(port, queues.dlqUrl, options);
    messages.forEach((m) => options.onMessage?.(m, 'would-move'));
    return { dryRun: true, depthBefore: depth, moved: 0, sentNotDeleted: 0, sendFailed: 0, listed: messages, depthAfter: await port.depth(queues.dlqUrl) };
  }
  const depthBefore = await port.depth(queues.dlqUrl);
  const sent = new Set<string>();
  const notDeleted = new Set<string>();
  let moved = 0;
  let sentNotDeleted = 0;
  let sendFailed = 0;
  let sendError: string | undefined;
  let deleteError: string | undefined;
  scan: while (sent.size < options.max) {
    const batch = await port.receive(queues.dlqUrl, receiveOptions(options, options.max - sent.size));
    if (batch.length === 0) break;
    let fresh = 0;
    for (const [index, message] of batch.entries()) {
      if (sent.has(message.messageId)) {
        // Received again after we sent it (SQS duplicate delivery, or an earlier delete failed): already back
        // in the source queue, so deleting this copy is all that is left to do.
        const deleted = await port.delete(queues.dlqUrl, message.receiptHandle).then(() => true, () => false);
        if (deleted && notDeleted.delete(message.messageId)) {
          sentNotDeleted--;
          moved++;
        }
        continue;
      }
      fresh++;
      try {
        await port.send(queues.sourceUrl, message);
      } catch (err) {
        sendFailed++;
        sendError = `send to the source queue failed for ${message.messageId}: ${(err as Error).message}`;
        await port.release(queues.dlqUrl, batch.slice(index).map((m) => m.receiptHandle)).catch(() => undefined);
        break scan;
      }
      sent.add(message.messageId);
      try {
        await port.delete(queues.dlqUrl, message.receiptHandle);
        moved++;
        options.onMessage?.(describeDeadLetter(message), 'moved');
      } catch (err) {
        sentNotDeleted++;
        notDeleted.add(message.messageId);
        deleteError ??= `delete from the DLQ failed for ${message.messageId} after it was sent: ${(err as Error).message}`;
      }
    }
    if (fresh === 0) break;
  }
  // A copy whose delete failed but was deleted when it came round again in this run is no longer an error.
  const error = sendError ?? (sentNotDeleted > 0 ? deleteError : undefined);
  return { dryRun: false, depthBefore, moved, sentNotDeleted, sendFailed, listed: [], depthAfter: await port.depth(queues.dlqUrl), ...(error ? { error } : {}) };
}

function receiveOptions(options: ScanOptions, remaining: number): ReceiveOptions {
  return {
    max: Math.max(1, Math.min(10, remaining)),
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? DEFAULT_VISIBILITY_SECONDS,
    waitTimeSeconds: options.waitTimeSeconds ?? DEFAULT_WAIT_SECONDS,
  };
}
