/**
 * `npm run dlq -- list|redrive <queue>`: inspect a dead-letter queue and move its messages back (issue 9 item 3).
 * The logic lives in lambdas/use-cases/redrive-dlq.ts; this file is the CLI and the SQS adapter of its port.
 */
import { parseArgs } from 'node:util';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { sqsClient } from '../lambdas/adapters/sqs-queue';
import { dlqName, QUEUES, type QueueKey } from '../lambdas/topology';
import {
  listDeadLetters,
  redriveDeadLetters,
  type DeadLetter,
  type DeadLetterPort,
  type ListedMessage,
  type QueueDepth,
  type RedriveResult,
} from '../lambdas/use-cases/redrive-dlq';

export const USAGE = `Usage: npm run dlq -- <command> <queue> [options]

Inspect a dead-letter queue (DLQ) of the service, and move its messages back to their source queue.

Commands:
  list <queue>      Print the DLQ depth and, per message: messageId, ApproximateReceiveCount, SentTimestamp,
                    first-receive time, size, and the ids of its body (correlationId, virtualCardId, tokenId,
                    operationId, action, attempt; runs of 12+ digits masked). Never the body itself, never
                    card data. Deletes nothing: received messages stay hidden during the pass and are made
                    visible again at its end (or after 30 s if the pass is interrupted).
  redrive <queue>   Move DLQ messages back to <queue>, one at a time: SendMessage to <queue> (same body and
                    message attributes), then DeleteMessage from the DLQ — never the other way round. A crash
                    between the two leaves a copy in both queues; the consumers dedupe, so it applies once.
                    Fix what made the consumer fail first, or the messages come back after maxReceiveCount.

<queue>: issuerCallbacks | tokenUpdates | d1Requests, or the queue's name (issuer-callbacks, token-updates,
         d1-requests; the -dlq names are accepted too).

Options:
  --max N           list: show at most N messages (default 100). redrive: move at most N (default: all).
  --dry-run         redrive: only list what would move; nothing is sent or deleted.
  --queue-url URL   The source queue's URL. Default: $ISSUER_CALLBACKS_QUEUE_URL, $TOKEN_UPDATES_QUEUE_URL or
                    $D1_REQUESTS_QUEUE_URL (lambdas/topology.ts), else GetQueueUrl of the local queue name.
  --dlq-url URL     The DLQ's URL. Default: the target of the source queue's RedrivePolicy (where SQS really
                    puts them), else GetQueueUrl of "<prefix><name>-dlq" (the source queue's name prefix).
  -h, --help        This text.

AWS: credentials and region from the SDK's default chain (AWS_PROFILE, AWS_REGION, ...). Needs
sqs:GetQueueUrl, sqs:GetQueueAttributes on both queues; sqs:ReceiveMessage, sqs:ChangeMessageVisibility,
sqs:DeleteMessage on the DLQ; sqs:SendMessage on the source queue.
Local (npm start, tests): set AWS_ENDPOINT_URL_SQS (e.g. http://127.0.0.1:9324), AWS_REGION=us-east-1 and any
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
Exit status: 0 done, 1 something failed (see the message), 2 usage error.`;

const DEFAULT_LIST_MAX = 100;

/** The SQS side of the DLQ use cases. */
export class SqsDeadLetterPort implements DeadLetterPort {
  constructor(private readonly client: SQSClient) {}

  async depth(queueUrl: string): Promise<QueueDepth> {
    const { Attributes: a = {} } = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    return {
      visible: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }

  async receive(queueUrl: string, options: { max: number; visibilityTimeoutSeconds: number; waitTimeSeconds: number }): Promise<DeadLetter[]> {
    const { Messages = [] } = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: options.max,
        VisibilityTimeout: options.visibilityTimeoutSeconds,
        WaitTimeSeconds: options.waitTimeSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'ApproximateFirstReceiveTimestamp'],
        MessageAttributeNames: ['All'],
      }),
    );
    const num = (value: string | undefined): number | null => (value === undefined || value === '' || !Number.isFinite(Number(value)) ? null : Number(value));
    return Messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      receiveCount: num(m.Attributes?.ApproximateReceiveCount),
      sentAt: num(m.Attributes?.SentTimestamp),
      firstReceivedAt: num(m.Attributes?.ApproximateFirstReceiveTimestamp),
      messageAttributes: m.MessageAttributes ?? {},
    }));
  }

  async send(queueUrl: string, message: DeadLetter): Promise<void> {
    // Rebuilt rather than echoed: a received value may carry the (reserved) list fields, which SendMessage rejects.
    const attributes: Record<string, MessageAttributeValue> = {};
    for (const [name, value] of Object.entries(message.messageAttributes as Record<string, MessageAttributeValue>)) {
      attributes[name] = {
        DataType: value.DataType,
        ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
      };
    }
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: message.body,
        ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
      }),
    );
  }

  async delete(queueUrl: string, receiptHandle: string): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
  }

  async release(queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
    for (let i = 0; i < receiptHandles.length; i += 10) {
      // Best effort: an entry that fails (already deleted, handle expired) becomes visible on its own anyway.
      await this.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: receiptHandles.slice(i, i + 10).map((handle, j) => ({ Id: String(i + j), ReceiptHandle: handle, VisibilityTimeout: 0 })),
        }),
      );
    }
  }
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** `issuerCallbacks`, `issuer-callbacks` or `issuer-callbacks-dlq` → `issuerCallbacks`. */
export function queueKeyOf(argument: string): QueueKey {
  for (const [key, spec] of Object.entries(QUEUES) as [QueueKey, (typeof QUEUES)[QueueKey]][]) {
    if (argument === key || argument === spec.localName || argument === dlqName(spec)) return key;
  }
  const known = (Object.keys(QUEUES) as QueueKey[]).map((k) => `${k} (${QUEUES[k].localName})`).join(', ');
  throw new UsageError(`unknown queue "${argument}"; one of: ${known}`);
}

const queueNameOf = (url: string): string => decodeURIComponent(new URL(url).pathname.split('/').filter(Boolean).pop() ?? url);

export interface ResolvedQueues {
  key: QueueKey;
  /** Undefined only for `list` with an explicit --dlq-url and no way to find the source queue. */
  sourceUrl: string | undefined;
  dlqUrl: string;
}

async function queueUrlByName(client: SQSClient, name: string, ownerAccountId?: string): Promise<string | undefined> {
  try {
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name, ...(ownerAccountId ? { QueueOwnerAWSAccountId: ownerAccountId } : {}) }));
    return QueueUrl;
  } catch (err) {
    if ((err as Error).name === 'QueueDoesNotExist' || (err as Error).name === 'AWS.SimpleQueueService.NonExistentQueue') return undefined;
    throw err;
  }
}

/** The DLQ the source queue's RedrivePolicy names (the queue SQS actually moves messages to), if any. */
async function redriveTargetArn(client: SQSClient, sourceUrl: string): Promise<string | undefined> {
  const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: sourceUrl, AttributeNames: ['RedrivePolicy'] }));
  if (!Attributes?.RedrivePolicy) return undefined;
  return (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
}

/**
 * Source queue: --queue-url, else the producers' env var, else GetQueueUrl of the local name. DLQ: --dlq-url,
 * else the source's RedrivePolicy target, else GetQueueUrl of `<prefix><name>-dlq`. With both given, the source
 * queue's RedrivePolicy must point at that DLQ: redriving into the wrong queue would feed one consumer another's
 * messages.
 */
export async function resolveQueues(
  client: SQSClient,
  key: QueueKey,
  overrides: { queueUrl?: string | undefined; dlqUrl?: string | undefined },
  env: NodeJS.ProcessEnv,
  needSource: boolean,
): Promise<ResolvedQueues> {
  const spec = QUEUES[key];
  let sourceUrl = overrides.queueUrl ?? env[spec.envVar];
  if (!sourceUrl && (needSource || !overrides.dlqUrl)) sourceUrl = await queueUrlByName(client, spec.localName);
  if (!sourceUrl && (needSource || !overrides.dlqUrl)) {
    throw new UsageError(`no URL for the ${spec.localName} queue: set ${spec.envVar} or pass --queue-url${needSource ? '' : ' (or --dlq-url)'}`);
  }

  const targetArn = sourceUrl ? await redriveTargetArn(client, sourceUrl) : undefined;
  let dlqUrl = overrides.dlqUrl;
  if (dlqUrl && targetArn) {
    const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
    if (Attributes?.QueueArn !== targetArn) {
      throw new UsageError(`${queueNameOf(dlqUrl)} is not the DLQ of ${queueNameOf(sourceUrl!)} (its RedrivePolicy names ${targetArn})`);
    }
  }
  if (!dlqUrl && targetArn) {
    // arn:aws:sqs:<region>:<account>:<name>
    const [, , , , account, name] = targetArn.split(':');
    if (name) dlqUrl = await queueUrlByName(client, name, account);
  }
  if (!dlqUrl && sourceUrl) {
    const sourceName = queueNameOf(sourceUrl);
    const prefix = sourceName.endsWith(spec.localName) ? sourceName.slice(0, -spec.localName.length) : '';
    dlqUrl = await queueUrlByName(client, `${prefix}${dlqName(spec)}`);
  }
  if (!dlqUrl) throw new UsageError(`cannot find the DLQ of ${spec.localName}: pass --dlq-url`);
  return { key, sourceUrl, dlqUrl };
}

const depthLine = (label: string, depth: QueueDepth): string =>
  `${label}: ${depth.visible} visible, ${depth.inFlight} in flight, ${depth.delayed} delayed`;

/** One line per message: SQS facts, then the safe summary (ids only, masked). */
export function formatMessage(message: ListedMessage): string {
  const summary = message.summary.unparseable
    ? 'body: not a JSON object (not shown)'
    : Object.entries(message.summary)
        .map(([field, value]) => `${field}=${value}`)
        .join(' ') || 'body: no ids';
  return [
    `  ${message.messageId}`,
    `receives=${message.receiveCount ?? '?'}`,
    `sent=${message.sentAt ?? '?'}`,
    `firstReceived=${message.firstReceivedAt ?? '?'}`,
    `size=${message.sizeBytes}B`,
    summary,
  ].join('  ');
}

export interface DlqIo {
  env?: NodeJS.ProcessEnv;
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Defaults to the service's sqsClient() (local endpoint aware); destroyed at the end only when created here. */
  client?: SQSClient;
  /** Port wrapper seam for tests (e.g. a delete that fails once, to act out a crash after the send). */
  wrapPort?: (port: DeadLetterPort) => DeadLetterPort;
  /** Receive long-poll per batch (default 1 s); an empty receive ends a scan. */
  waitTimeSeconds?: number;
}

export interface DlqRun {
  exitCode: number;
  /** Set for `redrive` (also with --dry-run). */
  redrive?: RedriveResult;
  /** Set for `list`. */
  listed?: ListedMessage[];
}

function parsePositiveInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`${flag} must be a positive integer`);
  return Number(text);
}

/** The CLI as a function: parses `argv` (after `dlq`), runs, prints through `io`, returns the exit code. */
export async function runDlq(argv: readonly string[], io: DlqIo = {}): Promise<DlqRun> {
  const out = io.out ?? ((line: string) => console.log(line));
  const err = io.err ?? ((line: string) => console.error(line));
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        max: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'queue-url': { type: 'string' },
        'dlq-url': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    err(`dlq: ${(e as Error).message}\n\n${USAGE}`);
    return { exitCode: 2 };
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(USAGE);
    return { exitCode: 0 };
  }
  const [command, queueArg, ...extra] = positionals;
  let key: QueueKey;
  let max: number | undefined;
  try {
    if ((command !== 'list' && command !== 'redrive') || !queueArg || extra.length > 0) {
      throw new UsageError(command && command !== 'list' && command !== 'redrive' ? `unknown command "${command}"` : 'expected: <list|redrive> <queue>');
    }
    if (values['dry-run'] && command === 'list') throw new UsageError('--dry-run applies to redrive (list never moves anything)');
    max = parsePositiveInt(values.max, '--max');
    key = queueKeyOf(queueArg);
  } catch (e) {
    err(`dlq: ${(e as Error).message}\n\n${USAGE}`);
    return { exitCode: 2 };
  }
  const client = io.client ?? sqsClient();
  try {
    const queues = await resolveQueues(client, key, { queueUrl: values['queue-url'], dlqUrl: values['dlq-url'] }, io.env ?? process.env, command === 'redrive');
    const port = io.wrapPort ? io.wrapPort(new SqsDeadLetterPort(client)) : new SqsDeadLetterPort(client);
    const dlqLabel = `DLQ ${queueNameOf(queues.dlqUrl)}`;
    const scan = { ...(io.waitTimeSeconds !== undefined ? { waitTimeSeconds: io.waitTimeSeconds } : {}) };

    if (command === 'list') {
      const result = await listDeadLetters(port, queues.dlqUrl, { ...scan, max: max ?? DEFAULT_LIST_MAX });
      out(`${depthLine(dlqLabel, result.depth)}${queues.sourceUrl ? ` (source queue ${queueNameOf(queues.sourceUrl)})` : ''}`);
      result.messages.forEach((m) => out(formatMessage(m)));
      const capped = result.messages.length >= (max ?? DEFAULT_LIST_MAX) && result.depth.visible + result.depth.inFlight > result.messages.length;
      out(`listed ${result.messages.length} message(s); nothing moved${capped ? ' (more are in the DLQ: raise --max)' : ''}`);
      return { exitCode: 0, listed: result.messages };
    }

    const target = queueNameOf(queues.sourceUrl!);
    const dryRun = values['dry-run'];
    out(`${dryRun ? 'dry run: ' : ''}redrive ${queueNameOf(queues.dlqUrl)} → ${target}${max ? ` (at most ${max})` : ''}`);
    const result = await redriveDeadLetters(
      port,
      { dlqUrl: queues.dlqUrl, sourceUrl: queues.sourceUrl! },
      {
        ...scan,
        max: max ?? (dryRun ? DEFAULT_LIST_MAX : Infinity),
        dryRun,
        onMessage: (message, outcome) => out(`${formatMessage(message)}  ${outcome === 'moved' ? `→ moved to ${target}` : '(would move)'}`),
      },
    );
    out(depthLine(`${dlqLabel} before`, result.depthBefore));
    if (dryRun) {
      out(`dry run: ${result.listed.length} message(s) would move; nothing sent or deleted`);
    } else {
      out(`moved ${result.moved}, sent but not deleted ${result.sentNotDeleted}, send failed ${result.sendFailed}`);
    }
    out(depthLine(`${dlqLabel} after`, result.depthAfter));
    if (result.error) {
      err(`dlq: ${result.error}`);
      if (result.sentNotDeleted > 0) err('dlq: copies left in the DLQ were already sent; redriving them again is harmless (the consumers dedupe)');
    }
    return { exitCode: result.error ? 1 : 0, redrive: result };
  } catch (e) {
    err(`dlq: ${(e as Error).message}${e instanceof UsageError ? `\n\n${USAGE}` : ''}`);
    return { exitCode: e instanceof UsageError ? 2 : 1 };
  } finally {
    if (!io.client) client.destroy();
  }
}

if (import.meta.main) {
  runDlq(process.argv.slice(2)).then(
    (run) => {
      process.exitCode = run.exitCode;
    },
    (e: unknown) => {
      console.error(`dlq: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
