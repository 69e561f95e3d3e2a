import { batchGetReadUnits, indexWriteUnits, recordIndexed, resetIndexLedger } from '../../bench/counters';

/**
 * The bench's cost figures count a GSI write only when an item's index entry changes (AWS: a write that changes no
 * index key and no projected attribute writes no index entry). gsi1 projects its keys and issuerCardRefId.
 */
const put = (item: Record<string, unknown>) => ({ TableName: 't', Item: item });
const token = (state: string, extra: Record<string, unknown> = {}) => ({
  pk: 'TOKEN#vc',
  sk: 'TOKEN',
  gsi1pk: 'CARD#c',
  gsi1sk: 'TOKEN#vc',
  issuerCardRefId: 'c',
  state,
  ...extra,
});
const write = (command: 'PutItem' | 'TransactWriteItems', input: Record<string, unknown>): number => {
  const units = indexWriteUnits(command, input);
  recordIndexed(command, input);
  return units;
};
const transaction = (...items: Record<string, unknown>[]) => ({ TransactItems: items.map((item) => ({ Put: put(item) })) });

beforeEach(() => resetIndexLedger());

describe('bench index-write model', () => {
  it('a new item entering the index: 1; state changes after that: 0', () => {
    expect(write('TransactWriteItems', transaction({ pk: 'TOKEN#vc', sk: 'EVT#a', seq: 'EVT#1' }, token('ACTIVE')))).toBe(1);
    expect(write('TransactWriteItems', transaction({ pk: 'TOKEN#vc', sk: 'EVT#b', seq: 'EVT#2' }, token('SUSPENDED')))).toBe(0);
    expect(write('PutItem', put(token('ACTIVE', { renewals: 3 })))).toBe(0);
  });

  it('leaving the index (an operation becoming final drops its keys): 1', () => {
    const open = { pk: 'OP#1', sk: 'OP', gsi1pk: 'OPEN_OPERATIONS', gsi1sk: '2026#1', issuerCardRefId: 'c', status: 'PENDING' };
    expect(write('PutItem', put(open))).toBe(1);
    expect(write('PutItem', put({ ...open, status: 'SUBMITTED' }))).toBe(0);
    const { gsi1pk: _p, gsi1sk: _s, ...final } = open;
    expect(write('PutItem', put({ ...final, status: 'SUCCEEDED' }))).toBe(1);
    expect(write('PutItem', put({ ...final, status: 'SUCCEEDED', version: 9 }))).toBe(0);
  });

  it('a projected attribute changed in place: 1; index keys changed (the entry moves): 2', () => {
    write('PutItem', put(token('ACTIVE')));
    expect(write('PutItem', put(token('ACTIVE', { issuerCardRefId: 'c2' })))).toBe(1);
    expect(write('PutItem', put(token('ACTIVE', { issuerCardRefId: 'c2', gsi1pk: 'CARD#c2' })))).toBe(2);
  });

  it('a failed write changes nothing: the next attempt is still billed as the first', () => {
    const input = transaction(token('ACTIVE'));
    expect(indexWriteUnits('TransactWriteItems', input)).toBe(1); // cancelled: not recorded
    expect(write('TransactWriteItems', input)).toBe(1);
  });
});

describe('bench BatchGetItem read units (AWS: each key a GetItem)', () => {
  const request = (keys: number, consistent: boolean) => ({
    RequestItems: { t: { Keys: Array.from({ length: keys }, (_, i) => ({ pk: `P#${i}`, sk: 'S' })), ConsistentRead: consistent } },
  });

  it('a found small item and a missing one: 1 unit each, strongly consistent', () => {
    expect(batchGetReadUnits(request(2, true), { Responses: { t: [{ pk: 'P#0', sk: 'S', state: 'ACTIVE' }] } })).toBe(2);
  });

  it('items round up to 4 KB each; eventually consistent halves it; unprocessed keys are not billed yet', () => {
    const big = { pk: 'P#0', sk: 'S', blob: 'x'.repeat(5_000) };
    expect(batchGetReadUnits(request(3, false), { Responses: { t: [big] }, UnprocessedKeys: { t: { Keys: [{ pk: 'P#2', sk: 'S' }] } } })).toBe(1.5);
  });
});
