import { randomUUID } from 'node:crypto';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbOperationStore } from '../../lambdas/adapters/dynamodb-operation-store';
import { DynamoDbTokenStore } from '../../lambdas/adapters/dynamodb-token-store';
import { newOperation, type Operation } from '../../lambdas/domain/operation';
import type { Token } from '../../lambdas/domain/token';
import { applyVirtualCardChange, dedupeKey, type VirtualCardChange } from '../../lambdas/domain/virtual-card-change';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provisionResources } from '../../local/local-aws';
import { TABLE } from '../../lambdas/topology';

/**
 * The table's one index projects keys and `issuerCardRefId` only, and history order is a plain attribute (no
 * LSI): a token's state change rewrites no index entry. These tests pin what that asks of the readers, against
 * DynamoDB Local with the real adapters: card listings and open operations are read back by key (BatchGetItem,
 * more than its 100-key limit included), the history route sorts by the stored sequence across pages.
 */

let raw: DynamoDBClient;
let ddb: DynamoDBDocumentClient;
let tableName: string;

beforeAll(async () => {
  const ddbEndpoint = process.env.LOCAL_DDB_ENDPOINT!;
  const resources = await provisionResources({ ddbEndpoint, sqsEndpoint: process.env.LOCAL_SQS_ENDPOINT!, prefix: `t${randomUUID().slice(0, 8)}-` });
  tableName = resources.env[TABLE.envVar]!;
  raw = new DynamoDBClient({ endpoint: ddbEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  ddb = DynamoDBDocumentClient.from(raw);
});

afterAll(() => ddb.destroy());

const at = (ms: number) => new Date(Date.parse('2026-05-01T10:00:00.000Z') + ms).toISOString();

async function deliver(store: DynamoDbTokenStore, change: VirtualCardChange): Promise<Token | null> {
  for (;;) {
    const current = await store.getToken(change.virtualCardId);
    const decision = applyVirtualCardChange(current, change);
    const result = await store.recordChange({
      dedupeKey: dedupeKey(change),
      virtualCardId: change.virtualCardId,
      expectedVersion: current?.version ?? null,
      token: decision.token,
      event: decision.event,
    });
    if (result !== 'CONFLICT') return decision.token;
  }
}

const change = (vc: string, card: string, n: number, action: string, errorCode: number | null = null): VirtualCardChange => ({
  correlationId: `corr-${n}`,
  issuerCardRefId: card,
  virtualCardId: vc,
  action,
  errorCode,
  source: 'WALLET',
  walletProviderId: 'APPLE_PAY',
  receivedAt: at(n),
});

describe('the provisioned table (same topology as the CDK stack)', () => {
  it('has the key-only card index, the event-log index and the change stream, and no LSI', async () => {
    const { Table } = await raw.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.LocalSecondaryIndexes ?? []).toEqual([]);
    expect(Table?.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.Projection?.ProjectionType, g.Projection?.NonKeyAttributes])).toEqual([
      ['gsi1', 'INCLUDE', ['issuerCardRefId']],
      // The event log: sparse (only event-log items carry its keys), written once per event, read whole.
      ['gsi2', 'ALL', undefined],
    ]);
    expect(Table?.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });
});

describe('card listing through a keys-only index', () => {
  it('returns whole, current tokens in index order; the index entry itself carries no state', async () => {
    const store = new DynamoDbTokenStore(ddb, { tableName });
    const card = `card-${randomUUID()}`;
    for (let i = 0; i < 5; i++) await deliver(store, change(`vc-${card}-${i}`, card, i, 'ACTIVATE'));
    await deliver(store, change(`vc-${card}-2`, card, 10, 'SUSPEND'));

    const entries = await ddb.send(
      new QueryCommand({ TableName: tableName, IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :p', ExpressionAttributeValues: { ':p': `CARD#${card}` } }),
    );
    expect(Object.keys(entries.Items![0]!).sort()).toEqual(['gsi1pk', 'gsi1sk', 'issuerCardRefId', 'pk', 'sk']);

    const first = await store.listCardTokens(card, { limit: 3 });
    const second = await store.listCardTokens(card, { limit: 3, nextToken: first.nextToken! });
    expect(second.nextToken).toBeNull();
    const listed = [...first.items, ...second.items];
    expect(listed.map((t) => t.virtualCardId)).toEqual([0, 1, 2, 3, 4].map((i) => `vc-${card}-${i}`));
    expect(listed.map((t) => t.state)).toEqual(['ACTIVE', 'ACTIVE', 'SUSPENDED', 'ACTIVE', 'ACTIVE']);
    expect(listed[2]).toMatchObject({ lastAction: 'SUSPEND', version: 2, walletProviderId: 'APPLE_PAY', issuerCardRefId: card });
  });
});

describe('the apply consumer reads token and operation in one request', () => {
  it('answers both, either or none, strongly consistent', async () => {
    const tokens = new DynamoDbTokenStore(ddb, { tableName });
    const operations = new DynamoDbOperationStore(ddb, tableName);
    const card = `card-${randomUUID()}`;
    const vc = `vc-${card}`;
    const op = newOperation({
      operationId: randomUUID(),
      action: 'SUSPEND',
      issuerCardRefId: card,
      virtualCardId: vc,
      expectedTokens: [vc],
      now: new Date(),
      sequence: 1,
    });
    expect(await operations.create(op)).toEqual({ kind: 'created' });

    expect(await tokens.getTokenAndOperation(vc, op.operationId)).toEqual({ token: null, operation: op });
    const created = await deliver(tokens, change(vc, card, 0, 'ACTIVATE'));
    const both = await tokens.getTokenAndOperation(vc, op.operationId);
    expect(both).toEqual({ token: { ...created, version: 1 }, operation: op });
    expect(await tokens.getTokenAndOperation(vc, 'an-external-correlation-id')).toEqual({ token: both.token, operation: null });
    expect(await tokens.getTokenAndOperation(`vc-${randomUUID()}`, 'x')).toEqual({ token: null, operation: null });
    expect(await tokens.getTokenAndOperation(vc, null)).toEqual({ token: both.token, operation: null });
  });
});

describe('history ordered by the stored sequence (no LSI)', () => {
  it('pages oldest first in application order, events recorded while the token was unknown first', async () => {
    const store = new DynamoDbTokenStore(ddb, { tableName });
    const card = `card-${randomUUID()}`;
    const vc = `vc-${card}`;
    await deliver(store, change(vc, card, 0, 'SUSPEND', 221)); // unknown token: recorded, creates nothing
    await deliver(store, change(vc, card, 1, 'SOMETHING_NEW'));
    const actions = ['ACTIVATE', ...Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? 'RENEW' : i % 3 === 1 ? 'SUSPEND' : 'RESUME'))];
    for (const [i, action] of actions.entries()) await deliver(store, change(vc, card, 100 + i, action));

    const pages: string[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await store.history(vc, { limit: 4, nextToken });
      pages.push(page.items.map((e) => e.correlationId));
      nextToken = page.nextToken ?? undefined;
    } while (nextToken);
    const order = pages.flat();
    expect(order).toEqual(['corr-0', 'corr-1', ...actions.map((_, i) => `corr-${100 + i}`)]);
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 4, 4, 3]);

    // The key order (the dedupe hash) is not the application order: the sequence attribute is what sorts.
    const byKey = await ddb.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :e)',
        ExpressionAttributeValues: { ':pk': `TOKEN#${vc}`, ':e': 'EVT#' },
      }),
    );
    expect(byKey.Items!.map((i) => i.correlationId)).not.toEqual(order);
  });
});

describe('open operations through a keys-only index', () => {
  it('reads more than 100 open operations back whole (BatchGetItem chunks), filtered by card and age; final ones leave the index', async () => {
    const store = new DynamoDbOperationStore(ddb, tableName);
    const cards = [`card-${randomUUID()}`, `card-${randomUUID()}`];
    const created: Operation[] = [];
    for (let i = 0; i < 130; i++) {
      const op = newOperation({
        operationId: randomUUID(),
        action: 'SUSPEND',
        issuerCardRefId: cards[i % 2]!,
        expectedTokens: [`vc-${i}`],
        now: new Date(Date.parse(at(i))),
        sequence: i,
      });
      expect(await store.create(op)).toEqual({ kind: 'created' });
      created.push(op);
    }
    const finished = created[0]!;
    expect(await store.save({ ...finished, status: 'SUCCEEDED', updatedAt: at(500) }, finished)).toBe('SAVED');

    const open = (await store.listOpen({})).filter((o) => cards.includes(o.issuerCardRefId));
    expect(open).toHaveLength(129);
    expect(open.find((o) => o.operationId === finished.operationId)).toBeUndefined();
    expect(open[0]).toEqual({ ...created[1]!, version: created[1]!.version });

    const firstCard = await store.listOpen({ issuerCardRefId: cards[1]! });
    expect(firstCard.map((o) => o.operationId)).toEqual(created.filter((_, i) => i % 2 === 1).map((o) => o.operationId));
    const older = await store.listOpen({ issuerCardRefId: cards[0]!, createdBefore: at(10) });
    expect(older.map((o) => o.operationId)).toEqual([2, 4, 6, 8].map((i) => created[i]!.operationId));
  });
});
