import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbD1Pacer } from '../../lambdas/adapters/dynamodb-d1-pacer';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provisionResources } from '../../local/local-aws';

/**
 * The DynamoDB pacer on DynamoDB Local with a hand-driven clock: which slot each lane gets, the interactive reserve
 * and its release, the jump over slots already past, deferral, giving up a slot woken too late, the shared cut.
 */

let client: DynamoDBDocumentClient;
let tableName: string;

beforeAll(async () => {
  const resources = await provisionResources({
    ddbEndpoint: process.env.LOCAL_DDB_ENDPOINT!,
    sqsEndpoint: process.env.LOCAL_SQS_ENDPOINT!,
    prefix: `p${randomUUID().slice(0, 8)}-`,
  });
  tableName = resources.env.TABLE_NAME!;
  client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: process.env.LOCAL_DDB_ENDPOINT, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
});
afterAll(() => client.destroy());

/** A pacer whose clock only moves when it sleeps (by `lateMs` more than asked, to play a late timer). */
function pacerAt(maxTps: number, startMs: number, lateMs = 0) {
  const clock = { t: startMs };
  const pacer = new DynamoDbD1Pacer(client, {
    tableName,
    maxTps,
    now: () => clock.t,
    sleep: async (ms) => {
      clock.t += ms + lateMs;
    },
  });
  /** One acquire at `atMs`; what it answered and when it let the call go. */
  const acquireAt = async (lane: 'interactive' | 'bulk', atMs: number) => {
    clock.t = atMs;
    const grant = await pacer.acquire(lane);
    return { grant, at: clock.t - startMs };
  };
  return { pacer, clock, acquireAt };
}

let second = Math.floor(Date.now() / 1000) + 100; // seconds of their own for each test
const freshSecond = () => (second += 10) * 1000;

it('at 20 TPS the bulk lane takes 18 slots 50 ms apart, then the next second; the reserved 19th is an interactive call’s', async () => {
  const start = freshSecond();
  const { acquireAt } = pacerAt(20, start);
  const bulk = [];
  // 50 ms before the second: its slots are all ahead, and the wait may reach 150 ms into the next one.
  for (let i = 0; i < 19; i++) bulk.push(await acquireAt('bulk', start - 50));
  expect(bulk.map((b) => b.grant.kind)).toEqual(Array(19).fill('go'));
  expect(bulk.map((b) => b.at)).toEqual([...Array.from({ length: 18 }, (_, i) => i * 50), 1000]);
  expect(await acquireAt('interactive', start - 50)).toEqual({ grant: { kind: 'go' }, at: 900 });
});

it('the reserve goes to the bulk lane 150 ms before its slot, so it is not wasted; one deferred bulk call stands by for it', async () => {
  const start = freshSecond();
  const { acquireAt } = pacerAt(20, start);
  for (let i = 0; i < 18; i++) await acquireAt('bulk', start - 50);
  expect(await acquireAt('bulk', start + 760)).toEqual({ grant: { kind: 'go' }, at: 900 });

  // 3 TPS: 2 usable slots a second (0 and 333 ms), the second one the reserve.
  const slow = freshSecond();
  const three = pacerAt(3, slow);
  const calls = [];
  for (let i = 0; i < 4; i++) calls.push(await three.acquireAt('bulk', slow - 50).then(({ grant, at }) => ({ grant, at: Math.round(at) })));
  expect(calls).toEqual([
    { grant: { kind: 'go' }, at: 0 },
    { grant: { kind: 'go' }, at: 1000 }, // the next second's bulk slot
    { grant: { kind: 'go' }, at: 333 }, // no bulk slot left: stood by until the reserve was released, then took it
    { grant: { kind: 'later', delaySeconds: 1 }, at: -50 }, // nothing within 1.2 s: back to the queue, D1 not called
  ]);
});

it('an idle pace jumps to the first slot still ahead instead of handing out slots already past', async () => {
  const start = freshSecond();
  const { acquireAt } = pacerAt(20, start);
  expect(await acquireAt('interactive', start + 420)).toEqual({ grant: { kind: 'go' }, at: 450 });
  // Another instance knows nothing of this second: its first claim jumps too, past the slot taken above.
  const other = pacerAt(20, start);
  expect(await other.acquireAt('bulk', start + 430)).toEqual({ grant: { kind: 'go' }, at: 500 });
  const item = await client.send(new GetCommand({ TableName: tableName, Key: { pk: 'PACE#d1', sk: `SECOND#${start / 1000}` } }));
  expect(item.Item).toMatchObject({ n: 11, c: 19, bl: 18, expiresAt: start / 1000 + 3600, entity: 'D1_PACE' });
});

it('a consumer woken too late gives its slots up rather than call late, and defers once its wait is spent', async () => {
  const start = freshSecond();
  const { acquireAt } = pacerAt(20, start, 30);
  const late = await acquireAt('interactive', start);
  expect(late.grant).toEqual({ kind: 'later', delaySeconds: 1 });
});

it('429/503: the first report halves the shared rate, reports within a second do not cut again, seconds created later hold fewer slots', async () => {
  const start = freshSecond();
  const { pacer, clock, acquireAt } = pacerAt(20, start);
  await pacer.throttled();
  const read = () => client.send(new GetCommand({ TableName: tableName, Key: { pk: 'PACE#d1', sk: 'BACKOFF' } }));
  expect((await read()).Item).toMatchObject({ rate: 10, cutAtMs: start });
  clock.t = start + 500;
  await pacer.throttled();
  await pacerAt(20, start + 600).pacer.throttled(); // another instance: it reads the recent cut and leaves it
  expect((await read()).Item).toMatchObject({ rate: 10, cutAtMs: start });
  // The second created after the cut spreads its 10 slots over the 19 positions (0, 1.9, 3.8…: 0, 50, 150 ms…).
  const slots = [];
  for (let i = 0; i < 3; i++) slots.push((await acquireAt('interactive', start - 50)).at);
  expect(slots).toEqual([0, 50, 150]);
});
