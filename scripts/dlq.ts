/**
 * `npm run dlq -- list|redrive|status|cancel <queue>`: inspect a dead-letter queue and move its messages back.
 * The rules live in lambdas/use-cases/redrive-dlq.ts, the SQS side in lambdas/adapters/sqs-dead-letters.ts.
 */
import { parseArgs } from 'node:util';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SqsDeadLetters } from '../lambdas/adapters/sqs-dead-letters';
import { UNTRACED } from '../lambdas/adapters/client-tracing';
import { sqsClient } from '../lambdas/adapters/sqs-queue';
import type { MoveTask, QueueFacts } from '../lambdas/ports/dead-letters';
import { dlqName, QUEUES, type QueueKey } from '../lambdas/topology';
import {
  cancelRedrive,
  DeadLetterRefusal,
  listDeadLetters,
  queueNameOf,
  redriveDeadLetters,
  resolveQueues,
  type ListedMessage,
  type RedriveResult,
} from '../lambdas/use-cases/redrive-dlq';

export const USAGE = `Usage: npm run dlq -- <command> <queue> [options]

Inspect a dead-letter queue (DLQ) of the service, and move its messages back to their source queue.

Commands:
  list <queue>      The DLQ depth and, per message: messageId, ApproximateReceiveCount, SentTimestamp, first-receive
                    time, size, and the ids of its body (correlationId, virtualCardId, tokenId, operationId, action,
                    attempt; runs of 12+ digits masked). Never the body, never card data. Moves nothing.
  redrive <queue>   Start an SQS message move task (StartMessageMoveTask) from the DLQ back to <queue>; it moves the
                    whole DLQ in the background. Fix what made the consumer fail first, or the messages come back
                    after maxReceiveCount receives. A message delivered twice is applied once (consumers dedupe).
  status <queue>    The DLQ's move tasks (the last 10): status, messages moved / to move, failure reason.
  cancel <queue>    Cancel the DLQ's running move task; what it moved stays moved.

<queue>: issuerCallbacks | tokenUpdates | d1Requests | d1BulkRequests | webhookDeliveries, or the queue's name
         (issuer-callbacks, token-updates, d1-requests, d1-bulk-requests, webhook-deliveries; the -dlq names are
         accepted too). A redriven webhook delivery starts a fresh 24 h of retries.

Options:
  --max N           list, redrive --dry-run: show at most N messages (default 100).
  --dry-run         redrive: list what would move; nothing is moved.
  --rate N          redrive: at most N messages a second (MaxNumberOfMessagesPerSecond, 1-500; default: SQS's).
  --queue-url URL   The source queue's URL. Default: the queue's own variable ($ISSUER_CALLBACKS_QUEUE_URL,
                    $D1_BULK_REQUESTS_QUEUE_URL, …), else GetQueueUrl of the local queue name.
  --dlq-url URL     The DLQ's URL. Default: the target of the source queue's RedrivePolicy, which it must be.
  -h, --help        This text.

AWS: credentials and region from the SDK's default chain. The stack output DlqOperatorPolicyArn is a managed policy
granting exactly what this needs: attach it to the operator's role.
Local (npm start, tests): AWS_ENDPOINT_URL_SQS (e.g. http://127.0.0.1:9324), AWS_REGION=us-east-1, any access key.
fauxqs has no move tasks: there \`redrive\` moves the messages itself (send, then delete), and status/cancel fail.
Exit status: 0 done, 1 something failed (see the message), 2 usage error or refused.`;

const DEFAULT_LIST_MAX = 100;
const COMMANDS = ['list', 'redrive', 'status', 'cancel'] as const;
type Command = (typeof COMMANDS)[number];

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

const depthLine = (label: string, d: QueueFacts): string => `${label}: ${d.visible} visible, ${d.inFlight} in flight, ${d.delayed} delayed`;

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

export const formatTask = (t: MoveTask): string =>
  [
    `  ${t.status}  moved ${t.moved}${t.toMove !== undefined ? `/${t.toMove}` : ''}  → ${t.destinationArn ? queueNameOf(t.destinationArn) : 'original source queues'}`,
    t.startedAt && `started ${new Date(t.startedAt).toISOString()}`,
    t.taskHandle && `task ${t.taskHandle}`,
    t.failureReason && `failure: ${t.failureReason}`,
  ]
    .filter(Boolean)
    .join('  ');

export interface DlqIo {
  env?: NodeJS.ProcessEnv;
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Defaults to the service's sqsClient() (local endpoint aware); destroyed at the end only when created here. */
  client?: SQSClient;
  /** Receive long-poll (default 1 s); an empty receive ends a pass. */
  waitTimeSeconds?: number;
}

export interface DlqRun {
  exitCode: number;
  listed?: ListedMessage[];
  redrive?: RedriveResult;
  tasks?: MoveTask[];
}

function positiveInt(text: string | undefined, flag: string, max = Infinity): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(text) || Number(text) > max) throw new UsageError(`${flag} must be an integer from 1${max < Infinity ? ` to ${max}` : ''}`);
  return Number(text);
}

function parseCommand(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      max: { type: 'string' },
      rate: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'queue-url': { type: 'string' },
      'dlq-url': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { help: true as const };
  const [name, queueArg, ...extra] = positionals;
  if (name && !(COMMANDS as readonly string[]).includes(name)) throw new UsageError(`unknown command "${name}"`);
  if (!name || !queueArg || extra.length > 0) throw new UsageError(`expected: <${COMMANDS.join('|')}> <queue>`);
  const command = name as Command;
  const dryRun = values['dry-run'];
  if (dryRun && command !== 'redrive') throw new UsageError('--dry-run applies to redrive');
  if (values.max !== undefined && command !== 'list' && !dryRun)
    throw new UsageError('--max applies to list and redrive --dry-run: a move task moves the whole DLQ');
  if (values.rate !== undefined && (command !== 'redrive' || dryRun)) throw new UsageError('--rate applies to redrive');
  return {
    command,
    key: queueKeyOf(queueArg),
    dryRun,
    max: positiveInt(values.max, '--max') ?? DEFAULT_LIST_MAX,
    rate: positiveInt(values.rate, '--rate', 500),
    queueUrl: values['queue-url'],
    dlqUrl: values['dlq-url'],
  };
}

/** The CLI as a function: parses `argv` (after `dlq`), runs, prints through `io`, returns the exit code. */
export async function runDlq(argv: readonly string[], io: DlqIo = {}): Promise<DlqRun> {
  const out = io.out ?? ((line: string) => console.log(line));
  const err = io.err ?? ((line: string) => console.error(line));
  let parsed;
  try {
    parsed = parseCommand(argv);
  } catch (e) {
    err(`dlq: ${(e as Error).message}\n\n${USAGE}`);
    return { exitCode: 2 };
  }
  if ('help' in parsed) {
    out(USAGE);
    return { exitCode: 0 };
  }
  const { command, key, dryRun, max, rate } = parsed;
  const client = io.client ?? sqsClient(UNTRACED);
  try {
    const port = new SqsDeadLetters(client, io.waitTimeSeconds);
    const spec = QUEUES[key];
    const source = parsed.queueUrl ?? (io.env ?? process.env)[spec.envVar] ?? (await port.queueUrl(spec.localName));
    if (!source) throw new UsageError(`no URL for the ${spec.localName} queue: set ${spec.envVar} or pass --queue-url`);
    const queues = await resolveQueues(port, source, parsed.dlqUrl);
    const [dlq, target] = [queueNameOf(queues.dlq.url), queueNameOf(source)];

    if (command === 'list') {
      const { depth, messages } = await listDeadLetters(port, queues.dlq.url, max);
      out(`${depthLine(`DLQ ${dlq}`, depth)} (source queue ${target})`);
      messages.forEach((m) => out(formatMessage(m)));
      const capped = messages.length >= max && depth.visible + depth.inFlight > messages.length;
      out(`listed ${messages.length} message(s); nothing moved${capped ? ' (more are in the DLQ: raise --max)' : ''}`);
      return { exitCode: 0, listed: messages };
    }
    if (command === 'status') {
      const tasks = await port.moveTasks(queues.dlq.arn);
      out(`move tasks of ${dlq}: ${tasks.length === 0 ? 'none' : tasks.length}`);
      tasks.forEach((t) => out(formatTask(t)));
      return { exitCode: 0, tasks };
    }
    if (command === 'cancel') {
      const { task, moved } = await cancelRedrive(port, queues.dlq.arn);
      out(`cancelled task ${task.taskHandle} of ${dlq} after ${moved} message(s) moved`);
      return { exitCode: 0 };
    }

    const result = await redriveDeadLetters(port, queues, { dryRun, max, maxPerSecond: rate });
    if (result.dryRun) {
      out(`dry run: redrive ${dlq} → ${target}`);
      out(depthLine(`DLQ ${dlq}`, result.depth));
      result.messages.forEach((m) => out(`${formatMessage(m)}  (would move)`));
      out(`dry run: a move task would move every message of the DLQ (${result.depth.visible} visible now); nothing moved`);
    } else if (result.task.taskHandle) {
      out(`redrive ${dlq} → ${target}: move task started`);
      out(formatTask(result.task));
      out(`watch it: npm run dlq -- status ${key}; stop it: npm run dlq -- cancel ${key}`);
    } else {
      out(`redrive ${dlq} → ${target}: moved ${result.task.moved} message(s) (no move tasks on this endpoint: sent, then deleted, one at a time)`);
    }
    return { exitCode: 0, redrive: result };
  } catch (e) {
    const usage = e instanceof UsageError || e instanceof DeadLetterRefusal;
    err(`dlq: ${(e as Error).message}${e instanceof UsageError ? `\n\n${USAGE}` : ''}`);
    return { exitCode: usage ? 2 : 1 };
  } finally {
    if (!io.client) client.destroy();
  }
}

// runDlq reports every failure through its exit code; it does not reject.
if (import.meta.main) void runDlq(process.argv.slice(2)).then((run) => (process.exitCode = run.exitCode));
