import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { httpRoute, type HttpHandler } from '../../lambdas/http/route';
import { notFoundHandler } from '../../lambdas/handlers/not-found';
import { loadHandlerModule } from '../../local/gateway';
import type { HttpRoute, QueueConsumer } from '../../lambdas/topology';
import { eventually, useTestStack } from '../support/stack';

/**
 * The walking skeleton end to end: HTTP → local gateway → a middy handler → SQS → poller → consumer → DynamoDB,
 * with test-defined handlers (the product handlers arrive with their issues) on real DynamoDB Local and fauxqs.
 */
const routes: HttpRoute[] = [
  { api: 'webhooks', method: 'POST', path: '/things/{thingId}', handler: 'notify-virtual-card-change', auth: 'none' },
  { api: 'backoffice', method: 'GET', path: '/health', handler: 'health', auth: 'none' },
];
const consumers: QueueConsumer[] = [{ queue: 'issuerCallbacks', handler: 'apply-virtual-card-change', batchSize: 10, maxConcurrency: 2 }];

const attempts = new Map<string, number>();

function clients() {
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: !process.env.AWS_ENDPOINT_URL_SQS });
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  return { sqs, ddb };
}

const enqueueThing: HttpHandler = httpRoute(
  { name: 'enqueueThing', body: z.object({ value: z.string().min(1) }), path: z.object({ thingId: z.string().max(20) }) },
  async ({ body, path }) => {
    const { sqs } = clients();
    await sqs.send(new SendMessageCommand({ QueueUrl: process.env.ISSUER_CALLBACKS_QUEUE_URL!, MessageBody: JSON.stringify({ id: path.thingId, ...body }) }));
    return { status: 202, body: { accepted: path.thingId } };
  },
);

/** Writes each record; fails a record whose value is "flaky" on its first delivery only. */
async function storeThings(event: SQSEvent): Promise<SQSBatchResponse> {
  const { ddb } = clients();
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const thing = JSON.parse(record.body) as { id: string; value: string };
    const seen = (attempts.get(thing.id) ?? 0) + 1;
    attempts.set(thing.id, seen);
    if (thing.value === 'flaky' && seen === 1) {
      batchItemFailures.push({ itemIdentifier: record.messageId });
      continue;
    }
    await ddb.send(
      new PutCommand({
        TableName: process.env.TABLE_NAME!,
        Item: { pk: `THING#${thing.id}`, sk: 'THING', value: thing.value, receives: record.attributes.ApproximateReceiveCount },
      }),
    );
  }
  return { batchItemFailures };
}

const stack = useTestStack({
  routes,
  consumers,
  loadHandler: async (name) => {
    if (name === 'notify-virtual-card-change') return enqueueThing;
    if (name === 'not-found') return notFoundHandler(routes);
    return loadHandlerModule(name);
  },
  loadConsumer: async () => storeThings as never,
});

const getThing = (id: string) =>
  stack.ddb.send(new GetCommand({ TableName: process.env.TABLE_NAME!, Key: { pk: `THING#${id}`, sk: 'THING' } })).then((r) => r.Item);

describe('walking skeleton on the real local stack', () => {
  it('serves the shipped health handler through the gateway', async () => {
    const res = await fetch(`${stack.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers unknown paths 404 and wrong methods 405 through the $default handler', async () => {
    const missing = await fetch(`${stack.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe('NOT_FOUND');
    const wrongMethod = await fetch(`${stack.url}/things/a`, { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('carries a request through SQS to the consumer and into DynamoDB', async () => {
    const res = await fetch(`${stack.url}/things/t-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'hello' }),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 't-1' });
    const item = await eventually(() => getThing('t-1'));
    expect(item).toMatchObject({ value: 'hello', receives: '1' });
  });

  it('redelivers only the records a consumer reported in batchItemFailures', async () => {
    await fetch(`${stack.url}/things/t-2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 'flaky' }) });
    await fetch(`${stack.url}/things/t-3`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value: 'steady' }) });
    expect(await eventually(() => getThing('t-3'))).toMatchObject({ receives: '1' });
    expect(await eventually(() => getThing('t-2'))).toMatchObject({ value: 'flaky', receives: '2' });
    expect(attempts.get('t-3')).toBe(1);
  });

  it('writes nothing and enqueues nothing for a rejected request', async () => {
    const res = await fetch(`${stack.url}/things/t-4`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'value' });
    expect(res.status).toBe(415);
    const tooLarge = await fetch(`${stack.url}/things/t-4`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 'x'.repeat(70_000) }),
    });
    expect(tooLarge.status).toBe(413);
    const malformed = await fetch(`${stack.url}/things/t-4`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"value":' });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).error.fields).toEqual([{ path: '', message: expect.any(String) }]);
    await stack.service.idle();
    const depth = await stack.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.resources.queues.issuerCallbacks.url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(depth.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
    expect(await getThing('t-4')).toBeUndefined();
    expect(attempts.has('t-4')).toBe(false);
  });
});
