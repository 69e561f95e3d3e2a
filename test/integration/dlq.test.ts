import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SqsHandler } from '../../local/sqs-poller';
import { QUEUE_CONSUMERS } from '../../lambdas/topology';
import { maskDigitRuns } from '../../lambdas/domain/card-data';
import { summarizeBody } from '../../lambdas/use-cases/redrive-dlq';
import { runDlq, type DlqIo } from '../../scripts/dlq';
import { queueDepth, queueDrained } from '../support/queues';
import { issuerRoutes } from '../support/routes';
import { eventually, startTestStack, TEST_ENV, type TestStack } from '../support/stack';

/**
 * `npm run dlq` against the real local stack (fauxqs + DynamoDB Local, the real webhook and the real
 * apply-virtual-card-change consumer). The only test hook wraps that consumer: while `failing` is set it reports
 * every record as a batch item failure, as a consumer with a bug would. fauxqs has no message move tasks, so
 * `redrive` takes the local send-then-delete path here; the AWS path (StartMessageMoveTask) runs on a fake client.
 */

const WEBHOOK = '/issuer/igwapi/v2.0/notifyVirtualCardChange';
const REPO = path.join(__dirname, '..', '..');
const PAN = '4111111111111111';
const OTHER_PAN = '5500005555555559';

let stack: TestStack;
let failing = true;
/** Records the real consumer was handed (only while not failing). */
const applied: { body: string; origin: string | undefined }[] = [];

beforeAll(async () => {
  stack = await startTestStack({
    consumers: QUEUE_CONSUMERS.filter((c) => c.queue === 'issuerCallbacks'),
    loadConsumer: async () => {
      const real = (await import('../../lambdas/handlers/apply-virtual-card-change')).handler;
      const wrapped: SqsHandler = async (event, context) => {
        if (failing) return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
        for (const record of event.Records) applied.push({ body: record.body, origin: record.messageAttributes.origin?.stringValue });
        return real(event, context);
      };
      return wrapped;
    },
  });
});

afterAll(async () => {
  await stack?.stop();
});

const uid = (): string => randomUUID().slice(0, 8);
const queues = () => stack.resources.queues.issuerCallbacks;

async function depth(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { visible, inFlight } = await queueDepth(stack, queueUrl);
  return { visible: Number(visible), inFlight: Number(inFlight) };
}

/** Runs the CLI in process; output captured. `waitTimeSeconds: 0`: fauxqs answers an empty receive at once. */
async function dlq(argv: string[], io: DlqIo = {}) {
  const lines: string[] = [];
  const run = await runDlq(argv, { out: (l) => lines.push(l), err: (l) => lines.push(l), waitTimeSeconds: 0, ...io });
  return { ...run, output: lines.join('\n') };
}

/** A VirtualCardChange queue message, as the webhook would have written it. */
function changeBody(ids: { cid: string; card: string; vc: string }, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    correlationId: ids.cid,
    issuerCardRefId: ids.card,
    virtualCardId: ids.vc,
    action: 'ACTIVATE',
    errorCode: null,
    source: 'WALLET',
    walletProviderId: null,
    receivedAt: new Date().toISOString(),
    ...extra,
  });
}

const putInDlq = (body: string, origin?: string) =>
  stack.sqs.send(
    new SendMessageCommand({
      QueueUrl: queues().dlqUrl,
      MessageBody: body,
      ...(origin ? { MessageAttributes: { origin: { DataType: 'String', StringValue: origin } } } : {}),
    }),
  );

const { getJson, history: historyOf } = issuerRoutes(() => stack.url);
const tokenStatus = async (vc: string): Promise<number> => (await getJson(`/v1/tokens/${encodeURIComponent(vc)}`)).status;

/** Until the source queue is empty (visible and in flight) and no poller holds a message. */
const sourceDrained = (): Promise<void> => queueDrained(stack, queues().url);

describe('safe summary of a queue message (pure)', () => {
  it('shows only the id fields, masks 12+ digit runs, drops everything else', () => {
    const body = JSON.stringify({
      correlationId: `cid-${PAN}`,
      virtualCardId: 'vc-1',
      tokenId: 'tok 4000 1234 5678 9010',
      operationId: 'op-1',
      action: 'ACTIVATE',
      attempt: 3,
      tokenInfo: { dpan: OTHER_PAN },
      cardArt: { background: 'c2VjcmV0' },
      tokenLastDigits: '9010',
    });
    expect(summarizeBody(body)).toEqual({
      correlationId: `cid-${'*'.repeat(16)}`,
      virtualCardId: 'vc-1',
      tokenId: `tok ${'*'.repeat(19)}`,
      operationId: 'op-1',
      action: 'ACTIVATE',
      attempt: '3',
    });
    expect(maskDigitRuns('12345678901 ok, 123456789012 masked')).toBe('12345678901 ok, ************ masked');
    expect(summarizeBody(`not json ${PAN}`)).toEqual({ unparseable: true });
    expect(summarizeBody(JSON.stringify([PAN]))).toEqual({ unparseable: true });
    expect(summarizeBody(JSON.stringify({ correlationId: { nested: PAN }, action: 'x\u001b[2Jy' }))).toEqual({ action: 'x?[2Jy' });
    // A parked webhook delivery: the subscription, the event's id and type, never the event's data.
    const delivery = {
      subscriptionId: 'sub-1',
      attempt: 12,
      parkedAt: '2026-12-03T10:00:00.000Z',
      event: { id: 'evt_1', type: 'token.created', data: { tokenPan: PAN } },
    };
    expect(summarizeBody(JSON.stringify(delivery))).toEqual({
      subscriptionId: 'sub-1',
      attempt: '12',
      parkedAt: '2026-12-03T10:00:00.000Z',
      eventId: 'evt_1',
      eventType: 'token.created',
    });
  });
});

describe('npm run dlq on the local stack', () => {
  const first = { cid: `cid-dlq-${uid()}`, card: `card-dlq-${uid()}`, vc: `vc-dlq-${uid()}` };
  const hostile = { cid: `cid-${PAN}`, card: `card-h-${uid()}`, vc: `vc-h-${uid()}` };

  it('a callback the consumer keeps failing lands in the DLQ after maxReceiveCount receives, without card data', async () => {
    const res = await fetch(stack.url + WEBHOOK, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': first.cid, 'x-issuer-id': TEST_ENV.ISSUER_ID },
      body: JSON.stringify({
        issuerCardRefId: first.card,
        virtualCardId: first.vc,
        action: 'ACTIVATE',
        source: 'WALLET',
        tokenInfo: { dpan: PAN, expiry: '1230' },
      }),
    });
    expect(res.status).toBe(200);
    // 5 receives × 2 s local visibility, then SQS moves it on the 6th.
    await eventually(async () => ((await depth(queues().dlqUrl)).visible === 1 ? true : undefined), 25_000, 200);
    expect(await depth(queues().url)).toEqual({ visible: 0, inFlight: 0 });
    expect(await tokenStatus(first.vc)).toBe(404);

    // What sits in the DLQ carries the ids to act on, and no card data (the webhook never queues tokenInfo).
    const peek = await stack.sqs.send(new ReceiveMessageCommand({ QueueUrl: queues().dlqUrl, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
    const [message] = peek.Messages ?? [];
    await stack.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queues().dlqUrl, ReceiptHandle: message!.ReceiptHandle!, VisibilityTimeout: 0 }));
    expect(Number(message!.Attributes!.ApproximateReceiveCount)).toBeGreaterThan(5);
    expect(JSON.parse(message!.Body!)).toMatchObject({ correlationId: first.cid, virtualCardId: first.vc, action: 'ACTIVATE' });
    expect(message!.Body).not.toContain(PAN);
    expect(message!.Body).not.toContain('tokenInfo');
  }, 35_000);

  it('list prints depth, receive counts and ids, never the body or anything PAN-like, and moves nothing', async () => {
    // A hostile body put straight into the DLQ: card data in extra fields, a PAN inside an id.
    await putInDlq(
      changeBody(hostile, { tokenInfo: { dpan: OTHER_PAN }, cardArt: { background: 'c2VjcmV0LWFydA==' }, note: 'pan 4000 1234 5678 9010' }),
      'dlq-test',
    );
    const run = await dlq(['list', 'issuerCallbacks']);
    expect(run.exitCode).toBe(0);
    expect(run.output).toMatch(/DLQ t[0-9a-f]{8}-issuer-callbacks-dlq: 2 visible, 0 in flight, 0 delayed \(source queue t[0-9a-f]{8}-issuer-callbacks\)/);
    expect(run.output).toContain(`correlationId=${first.cid} virtualCardId=${first.vc} action=ACTIVATE`);
    expect(run.output).toContain(`correlationId=cid-${'*'.repeat(16)} virtualCardId=${hostile.vc}`);
    expect(run.output).toMatch(/receives=([7-9]|1\d) {2}sent=\d{4}-\d\d-\d\dT[\d:.]+Z {2}firstReceived=\d{4}-\d\d-\d\dT[\d:.]+Z {2}size=\d+B/);
    expect(run.output).toContain('listed 2 message(s); nothing moved');
    for (const secret of [PAN, OTHER_PAN, '4000 1234 5678 9010', 'c2VjcmV0LWFydA', 'tokenInfo', 'cardArt', 'dpan', first.card]) {
      expect(run.output).not.toContain(secret);
    }
    expect(run.listed).toHaveLength(2);
    // Released at the end of the pass: visible again at once, so a redrive right after finds them.
    expect(await depth(queues().dlqUrl)).toEqual({ visible: 2, inFlight: 0 });
  });

  it('the script itself runs: node --import tsx scripts/dlq.ts list issuerCallbacks (subprocess, env of the test stack)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/dlq.ts', 'list', 'issuerCallbacks'], {
      cwd: REPO,
      env: { ...process.env, ...stack.resources.env },
      timeout: 20_000,
    });
    expect(stdout).toContain(`virtualCardId=${first.vc}`);
    expect(stdout).toContain(`virtualCardId=${hostile.vc}`);
    expect(stdout).toContain('listed 2 message(s)');
    expect(stdout).not.toContain(PAN);
    expect(stdout).not.toContain(OTHER_PAN);
    expect(await depth(queues().dlqUrl)).toEqual({ visible: 2, inFlight: 0 });
  }, 25_000);

  it("--queue-url/--dlq-url override the lookup; a DLQ that is not the queue's redrive target is refused", async () => {
    const ok = await dlq(['list', 'issuer-callbacks', '--queue-url', queues().url, '--dlq-url', queues().dlqUrl, '--max', '1']);
    expect(ok.exitCode).toBe(0);
    expect(ok.listed).toHaveLength(1);
    expect(ok.output).toContain('(more are in the DLQ: raise --max)');
    const wrong = await dlq(['redrive', 'issuerCallbacks', '--dlq-url', stack.resources.queues.tokenUpdates.dlqUrl]);
    expect(wrong.exitCode).toBe(2);
    expect(wrong.output).toContain('is not the DLQ of');
    expect((await dlq(['frobnicate', 'issuerCallbacks'])).exitCode).toBe(2);
    expect((await dlq(['list', 'nope'])).exitCode).toBe(2);
    expect((await dlq(['list', 'issuerCallbacks', '--max', '0'])).exitCode).toBe(2);
    // A move task moves the whole DLQ: --max only bounds what a listing shows.
    expect((await dlq(['redrive', 'issuerCallbacks', '--max', '1'])).exitCode).toBe(2);
    expect((await dlq(['redrive', 'issuerCallbacks', '--rate', '501'])).exitCode).toBe(2);
    expect(await depth(queues().dlqUrl)).toEqual({ visible: 2, inFlight: 0 });
  });

  it('redrive --dry-run lists what would move and moves nothing', async () => {
    const run = await dlq(['redrive', 'issuerCallbacks', '--dry-run']);
    expect(run.exitCode).toBe(0);
    expect(run.redrive?.dryRun).toBe(true);
    const listed = run.redrive!.dryRun ? run.redrive!.messages : [];
    expect(listed.map((m) => m.summary.virtualCardId).sort()).toEqual([first.vc, hostile.vc].sort());
    expect(run.output).toContain('(would move)');
    expect(run.output).toContain('dry run: a move task would move every message of the DLQ (2 visible now); nothing moved');
    expect(run.output).not.toContain(PAN);
    expect(await depth(queues().dlqUrl)).toEqual({ visible: 2, inFlight: 0 });
    expect(await depth(queues().url)).toEqual({ visible: 0, inFlight: 0 });
    expect(await tokenStatus(first.vc)).toBe(404);
    // fauxqs has no move tasks: a local redrive runs to the end inside `redrive`, so there is nothing to watch.
    for (const command of ['status', 'cancel'])
      expect((await dlq([command, 'issuerCallbacks'])).output).toContain('this SQS endpoint has no message move tasks');
  });

  it('once the consumer is fixed, redrive moves them back, they are applied and the DLQ is empty', async () => {
    failing = false;
    const run = await dlq(['redrive', 'issuerCallbacks']);
    expect(run.exitCode).toBe(0);
    expect(run.redrive).toMatchObject({ dryRun: false, task: { status: 'COMPLETED', moved: 2 } });
    expect(run.output).toMatch(/redrive t[0-9a-f]{8}-issuer-callbacks-dlq → t[0-9a-f]{8}-issuer-callbacks: moved 2 message\(s\)/);
    expect(run.output).not.toContain(PAN);
    await sourceDrained();
    expect(await depth(queues().dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    for (const ids of [first, hostile]) {
      const { status, body } = await getJson<{ state: string }>(`/v1/tokens/${ids.vc}`);
      expect({ status, state: body.state }).toEqual({ status: 200, state: 'ACTIVE' });
      expect((await historyOf(ids.vc)).map((e) => [e.correlationId, e.outcome])).toEqual([[ids.cid, 'APPLIED']]);
    }
    // Same body and message attributes as in the DLQ.
    const hostileRecord = applied.find((r) => r.body.includes(hostile.vc));
    expect(hostileRecord?.origin).toBe('dlq-test');
    expect(JSON.parse(hostileRecord!.body).tokenInfo).toEqual({ dpan: OTHER_PAN });
    // Nothing left to do: a second run moves nothing.
    expect((await dlq(['redrive', 'issuerCallbacks'])).redrive).toMatchObject({ task: { moved: 0 } });
  });

  it('redriving the same callback twice applies it once, even across a crash between send and delete', async () => {
    const dup = { cid: `cid-dup-${uid()}`, card: `card-dup-${uid()}`, vc: `vc-dup-${uid()}` };
    const body = changeBody(dup);
    await putInDlq(body);
    await putInDlq(body);

    // Run 1: the first copy is sent, then the run "crashes" before its DeleteMessage: the copy stays in the DLQ
    // (made visible again, as once its visibility timeout expired) and the run stops there.
    let crashed = false;
    stack.sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'DeleteMessageCommand' || crashed) return next(args);
        crashed = true;
        const { QueueUrl, ReceiptHandle } = args.input as { QueueUrl: string; ReceiptHandle: string };
        await stack.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle, VisibilityTimeout: 0 }));
        throw new Error('simulated crash before DeleteMessage');
      },
      { step: 'initialize', name: 'crashBeforeDelete' },
    );
    const run1 = await dlq(['redrive', 'issuerCallbacks'], { client: stack.sqs }).finally(() => stack.sqs.middlewareStack.remove('crashBeforeDelete'));
    expect(run1.exitCode).toBe(1);
    expect(run1.output).toContain('harmless to redrive again');
    await sourceDrained();
    expect(await depth(queues().dlqUrl)).toEqual({ visible: 2, inFlight: 0 }); // one sent, both copies still here

    // Run 2: both copies go back too. Three deliveries of one callback in all → one history event.
    const run2 = await dlq(['redrive', 'issuerCallbacks']);
    expect(run2.redrive).toMatchObject({ task: { moved: 2 } });
    await sourceDrained();
    expect(await depth(queues().dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(applied.filter((r) => r.body === body)).toHaveLength(3);
    expect((await historyOf(dup.vc)).map((e) => [e.correlationId, e.outcome])).toEqual([[dup.cid, 'APPLIED']]);
  });
});

describe('npm run dlq in AWS: an SQS message move task (fake SQS client)', () => {
  const [ARN, QURL] = ['arn:aws:sqs:eu-west-1:123456789012:', 'https://sqs.eu-west-1.amazonaws.com/123456789012/'];
  const [SOURCE, DLQ] = ['TokenLifecycle-IssuerCallbacks-A1', 'TokenLifecycle-IssuerCallbacksDlq-B2'];
  const task = {
    TaskHandle: 'h-1',
    Status: 'RUNNING',
    DestinationArn: ARN + SOURCE,
    ApproximateNumberOfMessagesMoved: 1,
    ApproximateNumberOfMessagesToMove: 3,
    StartedTimestamp: 1.7e12,
  };
  const redrivePolicy = JSON.stringify({ deadLetterTargetArn: ARN + DLQ, maxReceiveCount: 5 });
  const answers: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetQueueAttributesCommand: (i) => ({
      Attributes: i.QueueUrl === QURL + SOURCE ? { QueueArn: ARN + SOURCE, RedrivePolicy: redrivePolicy } : { QueueArn: ARN + DLQ },
    }),
    GetQueueUrlCommand: (i) => ({ QueueUrl: QURL + String(i.QueueName) }),
    StartMessageMoveTaskCommand: () => ({ TaskHandle: 'h-1' }),
    ListMessageMoveTasksCommand: () => ({ Results: [task] }),
    CancelMessageMoveTaskCommand: () => ({ ApproximateNumberOfMessagesMoved: 2 }),
  };
  const sent: [string, Record<string, unknown>][] = [];
  const client = {
    send: async ({ constructor: { name }, input }: { constructor: { name: string }; input: Record<string, unknown> }) => (
      sent.push([name, input]),
      answers[name]!(input)
    ),
  } as unknown as SQSClient;
  const aws = (...argv: string[]) => dlq(argv, { client, env: { ISSUER_CALLBACKS_QUEUE_URL: QURL + SOURCE } });

  it('redrive starts a task from the DLQ the RedrivePolicy names to the source queue; status shows it; cancel stops it', async () => {
    const run = await aws('redrive', 'issuerCallbacks', '--rate', '20');
    expect(sent.at(-1)).toEqual(['StartMessageMoveTaskCommand', { SourceArn: ARN + DLQ, DestinationArn: ARN + SOURCE, MaxNumberOfMessagesPerSecond: 20 }]);
    expect(run.output).toContain(`RUNNING  moved 0  → ${SOURCE}`);
    expect(run.output).toContain('task h-1');
    expect(run.output).toContain('watch it: npm run dlq -- status issuerCallbacks');
    expect((await aws('status', 'issuerCallbacks')).output).toContain(`RUNNING  moved 1/3  → ${SOURCE}  started 2023-11-14T22:13:20.000Z  task h-1`);
    expect(sent.at(-1)).toEqual(['ListMessageMoveTasksCommand', { SourceArn: ARN + DLQ, MaxResults: 10 }]);
    expect((await aws('cancel', 'issuerCallbacks')).output).toContain(`cancelled task h-1 of ${DLQ} after 2 message(s) moved`);
    expect(sent.at(-1)).toEqual(['CancelMessageMoveTaskCommand', { TaskHandle: 'h-1' }]);
    // The CLI itself never receives, sends or deletes a message to redrive in AWS: SQS moves them.
    expect(new Set(sent.map(([name]) => name))).toEqual(new Set(Object.keys(answers)));
  });
});
