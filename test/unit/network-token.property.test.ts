import fc from 'fast-check';
import type { NetworkToken, NetworkTokenState, TokenUpdate, TokenUpdateOutcome } from '../../lambdas/domain/network-token';
import type { NetworkTokenStore } from '../../lambdas/ports/network-tokens';
import { processTokenUpdate } from '../../lambdas/use-cases/process-token-update';

/**
 * Properties of rules 10 and 11 (DESIGN §2) over random deliveries of `notify-token-update` for ONE token, run
 * through the real apply use case (read, decide, conditional write on version, retry on CONFLICT) against an
 * in-memory store that behaves like the DynamoDB adapter (version + 1 per write, sealed credentials removed by
 * `dropTokenPan`, `storeCredentials` conditional on version and on the token not being DELETED).
 *
 * The reference model (`oracleFold`, `appliedInArrival`) is written here, independently of the product:
 * field-wise "last non-absent value by timestamp", state with DELETED terminal.
 *
 * Note on the oracle: rule 10 discards an update older than the stored one *whole*. So when an older update
 * arrives after a newer one, the fields only it carried are lost, and the final record equals the fold of the
 * updates that were newer than everything before them in arrival order — not the fold of every distinct update
 * sorted by timestamp. Both are checked: the sorted fold whenever updates arrive in timestamp order (duplicates
 * and late redeliveries anywhere), the arrival-order fold for any order. The example at the end pins the
 * difference.
 *
 * On failure fast-check prints the seed and the shrunk counterexample (replay with { seed, path }).
 */

const RUNS = 500;
const T0 = Date.parse('2026-05-01T00:00:00.000Z');
const TOKEN_ID = 't-1';

// ---------------------------------------------------------------- in-memory store (DynamoDB adapter semantics)

type Item = NetworkToken & { sealed?: string };

class MemoryNetworkTokenStore implements NetworkTokenStore {
  item: Item | null = null;
  /** Every successful applyUpdate, in write order. */
  readonly writes: NetworkToken[] = [];

  async get(tokenId: string): Promise<NetworkToken | null> {
    if (!this.item || tokenId !== this.item.tokenId) return null;
    const { sealed: _sealed, ...token } = structuredClone(this.item);
    return token;
  }

  async applyUpdate(token: NetworkToken, expectedVersion: number | null, dropTokenPan: boolean): Promise<'SAVED' | 'CONFLICT'> {
    if (expectedVersion === null ? this.item !== null : this.item?.version !== expectedVersion) return 'CONFLICT';
    const sealed = dropTokenPan ? undefined : this.item?.sealed;
    this.item = { ...structuredClone(token), version: (expectedVersion ?? 0) + 1, ...(sealed !== undefined ? { sealed } : {}) };
    this.writes.push(structuredClone(token));
    return 'SAVED';
  }

  async storeCredentials(tokenId: string, sealed: string, expectedVersion: number): Promise<'SAVED' | 'CONFLICT'> {
    if (!this.item || this.item.tokenId !== tokenId || this.item.version !== expectedVersion || this.item.state === 'DELETED') return 'CONFLICT';
    this.item = { ...this.item, sealed, tokenPanStored: true, version: expectedVersion + 1 };
    return 'SAVED';
  }

  async getSealedCredentials(tokenId: string): Promise<string | null> {
    return this.item?.tokenId === tokenId ? (this.item.sealed ?? null) : null;
  }

  snapshot(): Item | null {
    return structuredClone(this.item);
  }
}

/** What `createTransaction` does once D1 answered: store on the version just read; no token → nothing. */
async function storePan(store: MemoryNetworkTokenStore, n: number): Promise<void> {
  const token = await store.get(TOKEN_ID);
  if (token) await store.storeCredentials(TOKEN_ID, `sealed-${n}`, token.version);
}

// ---------------------------------------------------------------- arbitraries

type Content = Omit<TokenUpdate, 'tokenId' | 'correlationId' | 'receivedAt' | 'lastUpdateTimestamp'>;

/** Small pools, so the same digits (or state) are re-sent often. Keys are absent (not undefined) when not carried. */
const contentArb: fc.Arbitrary<Content> = fc.record(
  {
    merchantId: fc.constantFrom('m-1', 'm-2'),
    tokenState: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom<NetworkTokenState>('ACTIVE', 'SUSPENDED') },
      { weight: 1, arbitrary: fc.constant<NetworkTokenState>('DELETED') },
    ),
    tokenLastDigits: fc.constantFrom('1234', '5678', '0001'),
    tokenExpiryDate: fc.constantFrom('1228', '0130'),
    cardLastDigits: fc.constantFrom('9876', '1111'),
    cardExpiryDate: fc.constantFrom('0927', '0331'),
    cardBin: fc.constantFrom('453421', '51234567'),
    par: fc.constantFrom('PAR-A', 'PAR-B'),
    cardArt: fc.constantFrom<Record<string, unknown>>({ bg: 'blue' }, { bg: 'red', logo: { w: 10 } }),
  },
  { requiredKeys: ['merchantId'] },
);

/** Distinct timestamps (ms offsets kept small so neighbours are 1 ms apart sometimes). */
const distinctUpdatesArb: fc.Arbitrary<TokenUpdate[]> = fc
  .uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 10 })
  .chain((offsets) => fc.tuple(fc.constant(offsets), fc.array(contentArb, { minLength: offsets.length, maxLength: offsets.length })))
  .map(([offsets, contents]) =>
    offsets.map((offset, i) => ({
      ...contents[i]!,
      tokenId: TOKEN_ID,
      lastUpdateTimestamp: T0 + offset,
      correlationId: `corr-${offset}`,
      receivedAt: '', // stamped at arrival
    })),
  );

/** The distinct updates plus exact copies (redeliveries) of some of them. */
const multisetArb = distinctUpdatesArb.chain((distinct) =>
  fc.array(fc.nat({ max: distinct.length - 1 }), { maxLength: 8 }).map((again) => ({ distinct, deliveries: [...distinct, ...again.map((i) => distinct[i]!)] })),
);

type Event = { kind: 'update'; update: TokenUpdate } | { kind: 'storePan' };

/** Deliveries in the given order, with "a token PAN was stored" events inserted at random points. */
const withPanEvents = (deliveries: TokenUpdate[]): fc.Arbitrary<Event[]> =>
  fc.array(fc.nat({ max: deliveries.length }), { maxLength: 6 }).map((points) => {
    const events: Event[] = [];
    deliveries.forEach((update, i) => {
      for (const p of points) if (p === i) events.push({ kind: 'storePan' });
      events.push({ kind: 'update', update });
    });
    for (const p of points) if (p === deliveries.length) events.push({ kind: 'storePan' });
    return events;
  });

/** Any arrival order of the multiset. */
const anyOrderArb = multisetArb.chain(({ distinct, deliveries }) =>
  fc
    .shuffledSubarray(deliveries, { minLength: deliveries.length, maxLength: deliveries.length })
    .chain((order) => withPanEvents(order).map((events) => ({ distinct, events }))),
);

/**
 * Updates arriving in timestamp order: each redelivery right after its original or replayed late (at the end, in
 * any order), where it is a duplicate or stale.
 */
const inOrderArb = multisetArb.chain(({ distinct, deliveries }) => {
  const sorted = [...distinct].sort((a, b) => a.lastUpdateTimestamp - b.lastUpdateTimestamp);
  const copies = deliveries.slice(distinct.length);
  const indices = copies.map((_, i) => i);
  return fc
    .tuple(
      fc.array(fc.boolean(), { minLength: copies.length, maxLength: copies.length }),
      fc.shuffledSubarray(indices, { minLength: indices.length, maxLength: indices.length }),
    )
    .chain(([adjacent, lateOrder]) => {
      const order: TokenUpdate[] = [];
      for (const u of sorted) {
        order.push(u);
        copies.forEach((c, i) => {
          if (adjacent[i] && c === u) order.push(c);
        });
      }
      for (const i of lateOrder) if (!adjacent[i]) order.push(copies[i]!);
      return withPanEvents(order).map((events) => ({ distinct, events }));
    });
});

// ---------------------------------------------------------------- reference model (independent of the product)

type Comparable = Omit<NetworkToken, 'updatedAt' | 'version' | 'tokenPanStored'>;

const OPTIONAL: readonly (readonly [keyof TokenUpdate, keyof Comparable])[] = [
  ['tokenLastDigits', 'tokenLastDigits'],
  ['tokenExpiryDate', 'tokenExpiryDate'],
  ['cardLastDigits', 'cardLastDigits'],
  ['cardExpiryDate', 'cardExpiryDate'],
  ['cardBin', 'cardBin'],
  ['par', 'par'],
  ['cardArt', 'cardArt'],
];

/** Applies updates already known to be in increasing timestamp order: last non-absent value per field. */
function oracleFold(updates: readonly TokenUpdate[]): Comparable | null {
  if (updates.length === 0) return null;
  const last = updates[updates.length - 1]!;
  const lastCarried = <K extends keyof TokenUpdate>(field: K): TokenUpdate[K] | null => {
    for (let i = updates.length - 1; i >= 0; i--) if (updates[i]![field] !== undefined) return updates[i]![field];
    return null;
  };
  const everDeleted = updates.some((u) => u.tokenState === 'DELETED');
  const result: Record<string, unknown> = {
    tokenId: last.tokenId,
    merchantId: last.merchantId,
    state: everDeleted ? 'DELETED' : lastCarried('tokenState'),
    lastUpdateTimestamp: last.lastUpdateTimestamp,
  };
  for (const [field, tokenField] of OPTIONAL) result[tokenField] = lastCarried(field);
  return result as unknown as Comparable;
}

/** Rule 10 in arrival order: an update is applied iff it is newer than every update that arrived before it. */
function appliedInArrival(arrivals: readonly TokenUpdate[]): TokenUpdate[] {
  const applied: TokenUpdate[] = [];
  let newest = -Infinity;
  for (const u of arrivals) {
    if (u.lastUpdateTimestamp > newest) {
      applied.push(u);
      newest = u.lastUpdateTimestamp;
    }
  }
  return applied;
}

const comparable = (item: Item | null): Comparable | null => {
  if (!item) return null;
  const { updatedAt: _u, version: _v, tokenPanStored: _p, sealed: _s, ...rest } = item;
  return rest;
};

const updatesOf = (events: readonly Event[]): TokenUpdate[] => events.flatMap((e) => (e.kind === 'update' ? [e.update] : []));

// ---------------------------------------------------------------- the sequential runner with per-step checks

interface Step {
  event: Event;
  outcome: TokenUpdateOutcome | 'PAN_STORED' | 'PAN_REFUSED';
  before: Item | null;
  after: Item | null;
}

async function run(events: readonly Event[]): Promise<{ store: MemoryNetworkTokenStore; steps: Step[] }> {
  const store = new MemoryNetworkTokenStore();
  const steps: Step[] = [];
  let arrival = 0;
  let pans = 0;
  for (const event of events) {
    const before = store.snapshot();
    let outcome: Step['outcome'];
    if (event.kind === 'update') {
      const delivery = { ...event.update, receivedAt: new Date(T0 + 3_600_000 + arrival++ * 1000).toISOString() };
      outcome = (await processTokenUpdate({ store }, delivery)).outcome;
    } else {
      await storePan(store, pans++);
      outcome = store.item?.sealed !== before?.sealed || store.item?.version !== before?.version ? 'PAN_STORED' : 'PAN_REFUSED';
    }
    steps.push({ event, outcome, before, after: store.snapshot() });
  }
  return { store, steps };
}

// ---------------------------------------------------------------- properties

describe('network-token updates (rules 10, 11) — properties', () => {
  it('(a) updates arriving in timestamp order (with duplicates and late redeliveries) give the fold of the distinct updates sorted by timestamp', async () => {
    await fc.assert(
      fc.asyncProperty(inOrderArb, async ({ distinct, events }) => {
        const { store } = await run(events);
        const sorted = [...distinct].sort((a, b) => a.lastUpdateTimestamp - b.lastUpdateTimestamp);
        expect(comparable(store.item)).toEqual(oracleFold(sorted));
      }),
      { numRuns: RUNS },
    );
  });

  it('(a) for any delivery order with duplicates, the final record is the fold of the updates newer than everything before them; the newest update always lands', async () => {
    await fc.assert(
      fc.asyncProperty(anyOrderArb, async ({ distinct, events }) => {
        const { store, steps } = await run(events);
        const arrivals = updatesOf(events);
        expect(comparable(store.item)).toEqual(oracleFold(appliedInArrival(arrivals)));

        // Order-independent part: the newest update's timestamp, merchantId and carried fields always win.
        const newest = distinct.reduce((a, b) => (b.lastUpdateTimestamp > a.lastUpdateTimestamp ? b : a));
        const final = store.item!;
        expect(final.lastUpdateTimestamp).toBe(newest.lastUpdateTimestamp);
        expect(final.merchantId).toBe(newest.merchantId);
        for (const [field, tokenField] of OPTIONAL) if (newest[field] !== undefined) expect(final[tokenField]).toEqual(newest[field]);
        if (newest.tokenState !== undefined) expect([newest.tokenState, 'DELETED']).toContain(final.state);

        // Exactly one APPLIED per distinct update that was newer than everything before it; the rest are no-ops.
        const applied = steps.filter((s) => s.outcome === 'APPLIED').map((s) => (s.event.kind === 'update' ? s.event.update.lastUpdateTimestamp : NaN));
        expect(applied).toEqual(appliedInArrival(arrivals).map((u) => u.lastUpdateTimestamp));
      }),
      { numRuns: RUNS },
    );
  });

  it('(b) a stored token PAN never survives a tokenLastDigits change (nor DELETED) until the next storeCredentials', async () => {
    await fc.assert(
      fc.asyncProperty(anyOrderArb, async ({ events }) => {
        const { steps } = await run(events);
        let panMustBeAbsent = false;
        for (const { event, outcome, before, after } of steps) {
          // tokenPanStored tells the truth about the sealed credentials, always.
          expect(after?.tokenPanStored ?? false).toBe(after?.sealed !== undefined);

          if (event.kind === 'update' && outcome === 'APPLIED') {
            const digits = event.update.tokenLastDigits;
            const previous = before?.tokenLastDigits ?? null;
            if ((digits !== undefined && digits !== previous) || after?.state === 'DELETED') panMustBeAbsent = true;
            // Same digits (or none) on a live token: the stored PAN is kept.
            else if (before?.tokenPanStored) expect(after?.sealed).toBe(before.sealed);
          }
          if (outcome === 'PAN_STORED') panMustBeAbsent = false;
          if (panMustBeAbsent) {
            expect(after?.tokenPanStored).toBe(false);
            expect(after?.sealed).toBeUndefined();
          }
          // storeCredentials only works on an existing, not DELETED token.
          if (event.kind === 'storePan') {
            const canStore = before !== null && before.state !== 'DELETED';
            expect(outcome).toBe(canStore ? 'PAN_STORED' : 'PAN_REFUSED');
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('(c) DELETED never reverts, and a DELETED token never gets a token PAN', async () => {
    await fc.assert(
      fc.asyncProperty(anyOrderArb, async ({ events }) => {
        const { steps } = await run(events);
        let deleted = false;
        for (const { after } of steps) {
          if (deleted) {
            expect(after?.state).toBe('DELETED');
            expect(after?.tokenPanStored).toBe(false);
          }
          deleted ||= after?.state === 'DELETED';
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('(d) STALE and DUPLICATE leave the record deep-equal (updatedAt, version and sealed credentials included)', async () => {
    await fc.assert(
      fc.asyncProperty(anyOrderArb, async ({ events }) => {
        const { steps } = await run(events);
        let noOps = 0;
        for (const { event, outcome, before, after } of steps) {
          if (outcome === 'STALE' || outcome === 'DUPLICATE') {
            noOps++;
            expect(before).not.toBeNull();
            expect(after).toEqual(before);
            if (event.kind === 'update') {
              const ts = event.update.lastUpdateTimestamp;
              expect(outcome).toBe(ts === before!.lastUpdateTimestamp ? 'DUPLICATE' : 'STALE');
              expect(ts).toBeLessThanOrEqual(before!.lastUpdateTimestamp);
            }
          }
        }
        // A redelivered copy is always a no-op.
        const seen = new Set<number>();
        let copies = 0;
        for (const u of updatesOf(events)) {
          if (seen.has(u.lastUpdateTimestamp)) copies++;
          else seen.add(u.lastUpdateTimestamp);
        }
        expect(noOps).toBeGreaterThanOrEqual(copies);
      }),
      { numRuns: RUNS },
    );
  });

  it('(e) concurrent deliveries (random interleaving of reads and writes, CONFLICT retried, give-ups redelivered) write strictly newer updates only, each once, and converge like (a)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), multisetArb, async (s, { distinct, deliveries }) => {
        const store = new MemoryNetworkTokenStore();
        const raced: NetworkTokenStore = {
          get: s.scheduleFunction((id: string) => store.get(id)),
          applyUpdate: s.scheduleFunction((t: NetworkToken, v: number | null, d: boolean) => store.applyUpdate(t, v, d)),
          storeCredentials: (id, sealed, v) => store.storeCredentials(id, sealed, v),
          getSealedCredentials: (id) => store.getSealedCredentials(id),
        };
        const deliver = async (u: TokenUpdate, i: number) => {
          // SQS redelivers a message whose consumer gave up after too many conflicts.
          for (let receive = 0; receive < 20; receive++) {
            try {
              return await processTokenUpdate({ store: raced }, { ...u, receivedAt: new Date(T0 + 3_600_000 + i * 1000).toISOString() });
            } catch (err) {
              if (!String(err).includes('kept changing')) throw err;
            }
          }
          throw new Error('never applied');
        };
        const outcomes = await s.waitFor(Promise.all(deliveries.map(deliver)));

        const written = store.writes.map((t) => t.lastUpdateTimestamp);
        for (let i = 1; i < written.length; i++) expect(written[i]!).toBeGreaterThan(written[i - 1]!);
        expect(outcomes.filter((o) => o.outcome === 'APPLIED')).toHaveLength(written.length);

        const byTs = new Map(distinct.map((u) => [u.lastUpdateTimestamp, u]));
        const writtenUpdates = written.map((ts) => byTs.get(ts)!);
        expect(comparable(store.item)).toEqual(oracleFold(writtenUpdates));
        expect(store.item?.lastUpdateTimestamp).toBe(Math.max(...distinct.map((u) => u.lastUpdateTimestamp)));
        expect(store.item?.version).toBe(written.length);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('rule 10 — an older update arriving late is discarded whole (pins the oracle above)', () => {
  it('its fields are lost even when the newer update did not carry them, and a late DELETED does not land', async () => {
    const older: TokenUpdate = {
      tokenId: TOKEN_ID,
      merchantId: 'm-1',
      lastUpdateTimestamp: T0,
      cardBin: '453421',
      tokenState: 'DELETED',
      correlationId: 'c-old',
      receivedAt: '',
    };
    const newer: TokenUpdate = {
      tokenId: TOKEN_ID,
      merchantId: 'm-1',
      lastUpdateTimestamp: T0 + 1,
      tokenState: 'ACTIVE',
      correlationId: 'c-new',
      receivedAt: '',
    };
    const { store, steps } = await run([
      { kind: 'update', update: newer },
      { kind: 'update', update: older },
    ]);
    expect(steps.map((s) => s.outcome)).toEqual(['APPLIED', 'STALE']);
    expect(store.item).toMatchObject({ state: 'ACTIVE', cardBin: null, lastUpdateTimestamp: T0 + 1 });
    // whereas in timestamp order both land
    const inOrder = await run([
      { kind: 'update', update: older },
      { kind: 'update', update: newer },
    ]);
    expect(inOrder.store.item).toMatchObject({ state: 'DELETED', cardBin: '453421', lastUpdateTimestamp: T0 + 1 });
  });
});
