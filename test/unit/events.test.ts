import fc from 'fast-check';
import { eventId, eventsOf, wants, type CommittedChange, type RecordedChange, type ServiceEvent } from '../../lambdas/domain/events';
import type { NetworkToken } from '../../lambdas/domain/network-token';
import { newOperation, type Operation } from '../../lambdas/domain/operation';
import type { Token } from '../../lambdas/domain/token';
import { publishChange, SubscriptionSnapshots, type PublishDeps } from '../../lambdas/use-cases/publish-events';
import type { WebhookDelivery } from '../../lambdas/domain/messages';
import { tableStreamConsumer } from '../../lambdas/streams/table-stream-consumer';
import type { DynamoDBRecord } from 'aws-lambda';
import { storedToken } from '../support/tokens';

/** Events out (DESIGN §8) as pure rules: which committed change publishes what, with which id. */

const AT = '2026-12-03T10:00:00.000Z';
const token = (over: Partial<Token> = {}): Token => storedToken({ updatedAt: AT, ...over });
const recorded = (over: Partial<RecordedChange> = {}): RecordedChange => ({
  action: 'SUSPEND',
  source: 'WALLET',
  operationId: null,
  outcome: 'APPLIED',
  at: AT,
  ...over,
});
const tokenChange = (before: Token | null, after: Token | null, rec: RecordedChange | null): CommittedChange => ({
  entity: 'TOKEN',
  before,
  after,
  recorded: rec,
});

describe('token changes', () => {
  it.each([
    ['a token first learned', null, token(), recorded({ action: 'ACTIVATE' }), ['token.created']],
    ['a state change', token(), token({ state: 'SUSPENDED', version: 2 }), recorded(), ['token.state_changed']],
    ['a renewal', token(), token({ renewals: 1, version: 2 }), recorded({ action: 'RENEW' }), ['token.renewed']],
    ['a failed callback (version bump only)', token(), token({ version: 2 }), recorded({ outcome: 'FAILED' }), []],
    ['an ignored callback', token(), token({ version: 2 }), recorded({ outcome: 'IGNORED' }), []],
    ['a superseded callback', token(), token({ version: 2 }), recorded({ outcome: 'SUPERSEDED' }), []],
    ['an applied change that leaves the state (behind a later one)', token(), token({ version: 2 }), recorded(), []],
    ['a write without a recorded change', token(), token({ state: 'SUSPENDED', version: 2 }), null, []],
  ] as const)('%s → %j', (_name, before, after, rec, types) => {
    expect(eventsOf(tokenChange(before, after, rec)).map((e) => e.type)).toEqual(types);
  });

  it('says where the state came from and who changed it', () => {
    const [event] = eventsOf(tokenChange(token(), token({ state: 'SUSPENDED', version: 7 }), recorded({ source: 'ISSUER', operationId: 'op-1' })));
    expect(event).toEqual({
      id: eventId('TOKEN', 'vc-1', 7, 'token.state_changed'),
      type: 'token.state_changed',
      timestamp: AT,
      data: {
        virtualCardId: 'vc-1',
        issuerCardRefId: 'card-1',
        from: 'ACTIVE',
        to: 'SUSPENDED',
        action: 'SUSPEND',
        source: 'ISSUER',
        operationId: 'op-1',
        sequence: 7,
      },
    });
  });

  it('gives the same change the same id every time, and different changes different ids', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(), fc.string(), fc.nat(), (a, va, b, vb) => {
        expect(eventId('TOKEN', a, va, 'token.created')).toBe(eventId('TOKEN', a, va, 'token.created'));
        if (a !== b || va !== vb) expect(eventId('TOKEN', a, va, 'token.created')).not.toBe(eventId('TOKEN', b, vb, 'token.created'));
        expect(eventId('TOKEN', a, va, 'token.created')).not.toBe(eventId('TOKEN', a, va, 'token.renewed'));
      }),
    );
  });
});

describe('operation changes', () => {
  const open = (): Operation =>
    newOperation({
      operationId: 'op-1',
      action: 'SUSPEND',
      issuerCardRefId: 'card-1',
      virtualCardId: 'vc-1',
      reason: null,
      expectedTokens: ['vc-1'],
      now: new Date(AT),
    } as never);
  const final = (status: Operation['status']): Operation => ({ ...open(), status, version: 3, updatedAt: '2026-12-03T10:00:05.000Z' });

  it('publishes operation.completed once: when it becomes final, not on later writes', () => {
    expect(eventsOf({ entity: 'OPERATION', before: open(), after: { ...open(), status: 'SUBMITTED' } })).toEqual([]);
    const [completed] = eventsOf({ entity: 'OPERATION', before: { ...open(), status: 'SUBMITTED' }, after: final('FAILED') });
    expect(completed).toMatchObject({ type: 'operation.completed', timestamp: '2026-12-03T10:00:05.000Z', data: { operationId: 'op-1', status: 'FAILED' } });
    expect(eventsOf({ entity: 'OPERATION', before: final('FAILED'), after: { ...final('FAILED'), version: 4 } })).toEqual([]);
  });
});

describe('network-token changes', () => {
  const nt = (over: Partial<NetworkToken & { credentialsSealed: boolean }> = {}): NetworkToken & { credentialsSealed: boolean } => ({
    tokenId: 'nt-1',
    merchantId: 'm-1',
    state: 'ACTIVE',
    tokenLastDigits: '1234',
    tokenExpiryDate: '1230',
    cardLastDigits: '9876',
    cardExpiryDate: '1229',
    cardBin: '411111',
    par: null,
    cardArt: null,
    lastUpdateTimestamp: 1,
    tokenPanStored: false,
    updatedAt: AT,
    version: 1,
    credentialsSealed: false,
    ...over,
  });

  it('names the fields that changed', () => {
    const [updated] = eventsOf({ entity: 'NETWORK_TOKEN', before: nt(), after: nt({ tokenLastDigits: '5555', lastUpdateTimestamp: 2, version: 2 }) });
    expect(updated).toMatchObject({
      type: 'network_token.updated',
      data: { tokenId: 'nt-1', tokenLastDigits: '5555', changed: ['tokenLastDigits', 'lastUpdateTimestamp'], sequence: 2 },
    });
  });

  it.each([
    ['new digits', { tokenLastDigits: '5555', credentialsSealed: false, tokenPanStored: false }, 'LAST_DIGITS_CHANGED'],
    ['deleted', { state: 'DELETED' as const, credentialsSealed: false, tokenPanStored: false }, 'TOKEN_DELETED'],
  ])('says why the stored credentials went (%s)', (_name, over, reason) => {
    const events = eventsOf({ entity: 'NETWORK_TOKEN', before: nt({ credentialsSealed: true, tokenPanStored: true }), after: nt({ ...over, version: 2 }) });
    expect(events.map((e) => e.type)).toEqual(['network_token.updated', 'network_token.credentials_dropped']);
    expect(events[1]!.data).toEqual({ tokenId: 'nt-1', reason, sequence: 2 });
  });

  it('never carries a PAN: the event has no field for one', () => {
    const [updated] = eventsOf({ entity: 'NETWORK_TOKEN', before: null, after: nt({ credentialsSealed: true, tokenPanStored: true }) });
    expect(Object.keys(updated!.data)).not.toContain('tokenPan');
    expect(JSON.stringify(updated)).not.toMatch(/sealed/i);
  });
});

describe('subscription filters', () => {
  it('an empty list wants every type; otherwise only the listed ones', () => {
    expect(wants([], 'token.created')).toBe(true);
    expect(wants(['token.created'], 'token.created')).toBe(true);
    expect(wants(['token.created'], 'token.renewed')).toBe(false);
  });
});

describe('publishChange', () => {
  function deps(subscriptions: { subscriptionId: string; eventTypes: ServiceEvent['type'][] }[]) {
    const log = new Map<string, ServiceEvent>();
    const bus: ServiceEvent[] = [];
    const queued: WebhookDelivery[] = [];
    const d: PublishDeps = {
      log: {
        append: async (e) => (log.has(e.id) ? 'DUPLICATE' : (log.set(e.id, e), 'APPENDED')),
        list: async () => ({ items: [...log.values()], nextToken: null }),
      },
      bus: { put: async (events) => void bus.push(...events) },
      subscriptions: new SubscriptionSnapshots({
        list: async () => subscriptions.map((s) => ({ ...s, url: 'https://example.com/hook', description: null, createdAt: AT })),
      }),
      deliveries: { enqueue: async (ds) => void queued.push(...ds) },
      now: () => new Date(AT),
    };
    return { d, log, bus, queued };
  }

  it('logs once, and fans out again when the same change comes back (a crash after logging loses nothing)', async () => {
    const { d, log, bus, queued } = deps([
      { subscriptionId: 'all', eventTypes: [] },
      { subscriptionId: 'renewals', eventTypes: ['token.renewed'] },
    ]);
    const change = tokenChange(token(), token({ state: 'SUSPENDED', version: 2 }), recorded());
    expect(await publishChange(d, change)).toMatchObject({ appended: 1, deliveries: 1 });
    expect(await publishChange(d, change)).toMatchObject({ appended: 0, deliveries: 1 });
    expect(log.size).toBe(1);
    expect(bus.map((e) => e.id)).toEqual([...log.keys(), ...log.keys()]);
    expect(queued.map((q) => [q.subscriptionId, q.event.id, q.attempt])).toEqual([
      ['all', [...log.keys()][0], 1],
      ['all', [...log.keys()][0], 1],
    ]);
  });

  it('does nothing at all for a change that publishes nothing', async () => {
    const { d, log, bus, queued } = deps([{ subscriptionId: 'all', eventTypes: [] }]);
    await publishChange(d, tokenChange(token(), token({ version: 2 }), recorded({ outcome: 'FAILED' })));
    expect([log.size, bus.length, queued.length]).toEqual([0, 0, 0]);
  });
});

describe('the table-stream consumer', () => {
  const record = (n: number): DynamoDBRecord => ({ eventName: 'MODIFY', dynamodb: { SequenceNumber: String(n) } });

  it('stops at the first failing record and reports it, so nothing after it is handled before it', async () => {
    const handled: number[] = [];
    const consume = tableStreamConsumer(async (r) => {
      const n = Number(r.dynamodb!.SequenceNumber);
      if (n === 2) throw new Error('boom');
      handled.push(n);
    });
    expect(await consume({ Records: [record(1), record(2), record(3)] })).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
    expect(handled).toEqual([1]);
  });

  it('fails the whole batch when the failing record has no sequence number to retry from', async () => {
    const consume = tableStreamConsumer(async () => {
      throw new Error('boom');
    });
    await expect(consume({ Records: [{ eventName: 'MODIFY', dynamodb: {} }] })).rejects.toThrow('boom');
  });
});

describe('SubscriptionSnapshots', () => {
  function snapshots() {
    let now = 1_000_000;
    let reads = 0;
    let list = ['a'];
    const s = new SubscriptionSnapshots(
      { list: async () => (reads++, list.map((subscriptionId) => ({ subscriptionId, url: 'https://x', eventTypes: [], description: null, createdAt: AT }))) },
      () => now,
      10_000,
    );
    return {
      s,
      reads: () => reads,
      tick: (ms: number) => (now += ms),
      set: (ids: string[]) => (list = ids),
      now: () => now,
    };
  }

  it('serves a change committed before the last read from it, and reads again for a later one', async () => {
    const t = snapshots();
    await t.s.for(t.now()); // nothing cached: read
    expect(t.reads()).toBe(1);
    t.tick(5);
    await t.s.for(t.now() - 10); // committed before that read began: cached
    expect(t.reads()).toBe(1);
    t.set(['a', 'b']); // a subscription created after the read...
    t.tick(5);
    const ids = (await t.s.for(t.now())).map((x) => x.subscriptionId); // ...and a change committed after it: read again
    expect([t.reads(), ids]).toEqual([2, ['a', 'b']]);
  });

  it('reads again when the commit time is unknown, and at least every maxAge', async () => {
    const t = snapshots();
    await t.s.for(null);
    await t.s.for(null);
    expect(t.reads()).toBe(2);
    t.tick(10_001);
    await t.s.for(0);
    expect(t.reads()).toBe(3);
  });

  it('does not keep a failed read', async () => {
    let fail = true;
    const s = new SubscriptionSnapshots({ list: async () => (fail ? Promise.reject(new Error('throttled')) : []) }, () => 5);
    await expect(s.for(1)).rejects.toThrow('throttled');
    fail = false;
    await expect(s.for(1)).resolves.toEqual([]);
  });
});
