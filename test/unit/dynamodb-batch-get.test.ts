import type { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetInOrder } from '../../lambdas/adapters/dynamodb-batch-get';

/**
 * The UnprocessedKeys loop of batchGetInOrder. DynamoDB Local never leaves keys unprocessed (it does not
 * throttle), so this one path is driven by a scripted stand-in for the client: it answers like DynamoDB does
 * under throttling. Everything else about the function runs against DynamoDB Local (dynamodb-indexes.test.ts).
 */

type Key = { pk: string; sk: string };
const keys = (n: number): Key[] => Array.from({ length: n }, (_, i) => ({ pk: `P#${i}`, sk: 'S' }));

/** Answers each request's keys, except the first `withhold(round)` of them, which come back unprocessed. */
function throttlingClient(withhold: (round: number) => number, missing: Set<string> = new Set()) {
  const requests: Key[][] = [];
  const client = {
    async send(command: BatchGetCommand) {
      const asked = command.input.RequestItems!.t!.Keys as Key[];
      expect(command.input.RequestItems!.t!.ConsistentRead).toBe(true);
      requests.push(asked);
      const held = asked.slice(0, withhold(requests.length));
      const answered = asked.slice(held.length).filter((k) => !missing.has(k.pk));
      return {
        Responses: { t: answered.map((k) => ({ ...k, value: `v-${k.pk}` })).reverse() }, // any order, as DynamoDB
        UnprocessedKeys: held.length > 0 ? { t: { Keys: held } } : {},
      };
    },
  };
  return { client: client as unknown as DynamoDBDocumentClient, requests };
}

const noWait = async () => {};

describe('batchGetInOrder', () => {
  it('asks again for unprocessed keys until all are read, and answers in the order of the keys', async () => {
    const { client, requests } = throttlingClient((round) => (round === 1 ? 3 : round === 2 ? 1 : 0));
    const items = await batchGetInOrder(client, 't', keys(5), noWait);
    expect(items.map((i) => i.pk)).toEqual(['P#0', 'P#1', 'P#2', 'P#3', 'P#4']);
    expect(requests.map((r) => r.map((k) => k.pk))).toEqual([['P#0', 'P#1', 'P#2', 'P#3', 'P#4'], ['P#0', 'P#1', 'P#2'], ['P#0']]);
  });

  it('splits more than 100 keys into requests of at most 100, and leaves out keys with no item', async () => {
    const { client, requests } = throttlingClient(() => 0, new Set(['P#7', 'P#150']));
    const items = await batchGetInOrder(client, 't', keys(230), noWait);
    expect(requests.map((r) => r.length)).toEqual([100, 100, 30]);
    expect(items).toHaveLength(228);
    expect(items.map((i) => i.pk)).toEqual(
      keys(230)
        .map((k) => k.pk)
        .filter((pk) => pk !== 'P#7' && pk !== 'P#150'),
    );
  });

  it('throws rather than answer a partial read when keys stay unprocessed, backing off between rounds', async () => {
    const waits: number[] = [];
    const { client, requests } = throttlingClient(() => 1);
    await expect(batchGetInOrder(client, 't', keys(2), async (ms) => void waits.push(ms))).rejects.toThrow(/unprocessed/);
    expect(requests).toHaveLength(8);
    expect(waits).toHaveLength(7);
    expect(waits.every((ms) => ms >= 0 && ms <= 1_000)).toBe(true);
  });

  it('reads nothing for no keys', async () => {
    const { client, requests } = throttlingClient(() => 0);
    expect(await batchGetInOrder(client, 't', [], noWait)).toEqual([]);
    expect(requests).toHaveLength(0);
  });
});
