import fc from 'fast-check';
import type { Token, TokenState } from '../../lambdas/domain/token';
import { applyVirtualCardChange, dedupeKey, type HistoryEvent, type VirtualCardChange } from '../../lambdas/domain/virtual-card-change';
import { callbackIdentity, distinctCallbacks, expectedToken, NO_TOKEN, ORACLE_KNOWN_ACTIONS, type OracleToken } from '../support/callback-oracle';

/**
 * Properties of rules 2, 3, 4, 6 and 7 over random arrival orders of external callbacks for ONE token, folded
 * through an in-memory store that behaves like the DynamoDB adapter (dedupe record keyed by dedupeKey, a
 * duplicate skipped entirely, version + 1 on every recorded event while the token exists), and checked
 * against the independent reference model in test/support/callback-oracle.ts.
 * On failure fast-check prints the seed and the shrunk counterexample (replay with { seed, path }).
 */

const RUNS = 500;
const T0 = Date.parse('2026-05-01T00:00:00.000Z');
const VC = 'vc-1';
const CARD = 'card-1';

// ---------------------------------------------------------------- arbitraries

type Callback = Omit<VirtualCardChange, 'receivedAt' | 'virtualCardId' | 'issuerCardRefId'>;

const UNKNOWN_ACTIONS = ['UPDATE', 'activate', 'Delete', 'RENEWAL'] as const;

const callbackArb: fc.Arbitrary<Callback> = fc.record({
  // A small pool, so the same callback identity recurs naturally.
  correlationId: fc.constantFrom('c1', 'c2', 'c3'),
  action: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ORACLE_KNOWN_ACTIONS) }, { weight: 1, arbitrary: fc.constantFrom(...UNKNOWN_ACTIONS) }),
  errorCode: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(221) }),
  source: fc.constantFrom('WALLET', 'TSP', 'ISSUER', 'PORTAL', null),
  walletProviderId: fc.constantFrom('APPLE_PAY', 'GOOGLE_PAY', null),
});

/** Distinct-ish callbacks plus explicit redeliveries of some of them (same body). */
const multisetArb: fc.Arbitrary<Callback[]> = fc
  .array(callbackArb, { maxLength: 20, size: 'medium' })
  .chain((base) =>
    fc.array(fc.nat({ max: Math.max(base.length - 1, 0) }), { maxLength: base.length === 0 ? 0 : 10 }).map((again) => [...base, ...again.map((i) => base[i]!)]),
  );

const shuffled = (all: Callback[]): fc.Arbitrary<Callback[]> => fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });

/** receivedAt follows arrival: the webhook stamps each delivery when it accepts it. */
const arrive = (order: readonly Callback[]): VirtualCardChange[] =>
  order.map((c, i) => ({ ...c, virtualCardId: VC, issuerCardRefId: CARD, receivedAt: new Date(T0 + i * 1000).toISOString() }));

/** One arrival order. */
const arrivalsArb: fc.Arbitrary<VirtualCardChange[]> = multisetArb.chain(shuffled).map(arrive);

/** A token we may already know (seeded by reconciliation or an earlier callback), or none. */
const initialArb: fc.Arbitrary<Token | null> = fc.option(
  fc
    .record({
      state: fc.constantFrom<TokenState>('INACTIVE', 'ACTIVE', 'SUSPENDED', 'DELETED'),
      renewals: fc.nat({ max: 3 }),
      lastAction: fc.constantFrom('ACTIVATE', 'RENEW', 'SUSPEND', 'DELETE'),
      version: fc.integer({ min: 1, max: 5 }),
    })
    .map((t): Token => ({
      virtualCardId: VC,
      issuerCardRefId: CARD,
      walletProviderId: 'APPLE_PAY',
      tokenStorageId: null,
      walletCardRefId: null,
      device: null,
      state: t.state,
      lastAction: t.lastAction,
      lastChangeSource: 'WALLET',
      lastOperationId: null,
      renewals: t.renewals,
      lastRenewedAt: null,
      updatedAt: new Date(T0 - 86_400_000).toISOString(),
      lastOperationOrder: null,
      lastStateChangeAt: new Date(T0 - 86_400_000).toISOString(),
      version: t.version,
    })),
  { freq: 2 },
);

const oracleStart = (t: Token | null): OracleToken =>
  t === null ? NO_TOKEN : { exists: true, state: t.state, renewals: t.renewals, lastAction: t.lastAction };

// ---------------------------------------------------------------- in-memory store (mimics the adapter)

interface Step {
  change: VirtualCardChange;
  duplicate: boolean;
  before: Token | null;
  after: Token | null;
  event: HistoryEvent | null;
}

interface Store {
  seen: Set<string>;
  token: Token | null;
  history: HistoryEvent[];
  steps: Step[];
}

/** Token is flat: a spread is a full copy. */
const copy = (t: Token | null): Token | null => (t === null ? null : { ...t });

const newStore = (initial: Token | null): Store => ({ seen: new Set(), token: copy(initial), history: [], steps: [] });

/** One delivery: the dedupe record and the token write are one atomic step, as in DynamoDbTokenStore.recordChange. */
function deliver(store: Store, change: VirtualCardChange): Step {
  const before = copy(store.token);
  const key = dedupeKey(change);
  if (store.seen.has(key)) {
    const step = { change, duplicate: true, before, after: before, event: null };
    store.steps.push(step);
    return step;
  }
  // The product receives a frozen copy: it must not mutate what it read.
  const decision = applyVirtualCardChange(before === null ? null : Object.freeze(copy(before)), Object.freeze({ ...change }));
  store.seen.add(key);
  store.history.push(decision.event);
  if (decision.token !== null) store.token = { ...decision.token, version: (before?.version ?? 0) + 1 };
  const step = { change, duplicate: false, before, after: copy(store.token), event: decision.event };
  store.steps.push(step);
  return step;
}

function run(initial: Token | null, arrivals: readonly VirtualCardChange[]): Store {
  const store = newStore(initial);
  for (const change of arrivals) deliver(store, change);
  return store;
}

/**
 * Checks inside properties are plain comparisons that throw only on failure (thousands of `expect` calls per
 * property would eat the time budget); fast-check then prints the seed, the shrunk counterexample and this message.
 */
function check(ok: boolean, message: () => string): void {
  if (!ok) throw new Error(message());
}

const show = (value: unknown): string => JSON.stringify(value);

/** Token is flat: field-by-field equality, optionally ignoring the version the store bumps. */
function sameToken(a: Token | null, b: Token | null, ignoreVersion = false): boolean {
  if (a === null || b === null) return a === b;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof Token)[]);
  for (const k of keys) if (!(ignoreVersion && k === 'version') && a[k] !== b[k]) return false;
  return true;
}

const observed = (t: Token | null): OracleToken => (t === null ? NO_TOKEN : { exists: true, state: t.state, renewals: t.renewals, lastAction: t.lastAction });

const describeStep = (step: Step): string => `callback ${show(step.change)}: before ${show(step.before)}, after ${show(step.after)}, event ${show(step.event)}`;

// ---------------------------------------------------------------- properties

describe('applyVirtualCardChange over random callback sequences (external callbacks, one token)', () => {
  it('(a) rule 4: once DELETED, always DELETED, and nothing about the token changes any more', () => {
    fc.assert(
      fc.property(initialArb, arrivalsArb, (initial, arrivals) => {
        const store = run(initial, arrivals);
        let deleted: Token | null = initial?.state === 'DELETED' ? initial : null;
        for (const step of store.steps) {
          if (deleted) {
            check(step.after?.state === 'DELETED', () => `left DELETED: ${describeStep(step)}`);
            check(sameToken(step.after, deleted, true), () => `a DELETED token changed: ${describeStep(step)}`);
            if (step.event) {
              check(step.event.outcome !== 'APPLIED', () => `applied to a DELETED token: ${describeStep(step)}`);
              check(step.event.stateAfter === 'DELETED', () => `stateAfter not DELETED: ${describeStep(step)}`);
            }
          } else if (step.after?.state === 'DELETED') {
            deleted = step.after;
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('(b) rule 2: a recorded callback delivered again (any time, any source/wallet/receivedAt) changes nothing, updatedAt included', () => {
    fc.assert(
      fc.property(
        initialArb,
        arrivalsArb,
        fc.nat(),
        fc.constantFrom('WALLET', 'TSP', 'OTHER', null),
        fc.constantFrom('GOOGLE_PAY', null),
        (initial, arrivals, pick, source, walletProviderId) => {
          fc.pre(arrivals.length > 0);
          const store = run(initial, arrivals);
          // Duplicates met on the way (natural or explicit) were recognised, and changed nothing at all.
          const seen = new Set<string>();
          for (const step of store.steps) {
            const id = callbackIdentity(step.change);
            check(step.duplicate === seen.has(id), () => `dedupe disagrees with rule 2 identity (duplicate=${step.duplicate}): ${describeStep(step)}`);
            if (step.duplicate) check(sameToken(step.after, step.before), () => `a duplicate changed the token: ${describeStep(step)}`);
            seen.add(id);
          }
          // A late redelivery of any recorded callback, with every field outside its identity changed.
          const original = arrivals[pick % arrivals.length]!;
          const tokenBefore = copy(store.token);
          const historyLength = store.history.length;
          const step = deliver(store, { ...original, source, walletProviderId, receivedAt: new Date(T0 + 10 ** 9).toISOString() });
          check(step.duplicate, () => `redelivery not recognised as a duplicate: ${describeStep(step)}`);
          check(sameToken(store.token, tokenBefore), () => `redelivery changed the token: ${describeStep(step)}`);
          check(store.history.length === historyLength, () => `redelivery added a history event: ${describeStep(step)}`);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('(c) rule 3: a failed callback never changes the token (nor creates one)', () => {
    fc.assert(
      fc.property(initialArb, arrivalsArb, (initial, arrivals) => {
        const store = run(initial, arrivals);
        for (const step of store.steps) {
          if (step.change.errorCode === null) continue;
          check(sameToken(step.after, step.before, true), () => `a failed callback changed the token: ${describeStep(step)}`);
          if (step.event) {
            check(
              step.event.outcome === 'FAILED' && step.event.errorCode === step.change.errorCode,
              () => `not recorded as FAILED with its code: ${describeStep(step)}`,
            );
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('(d) the final token matches the reference model for every arrival order of the same callbacks', () => {
    fc.assert(
      fc.property(
        initialArb,
        multisetArb.chain((all) => fc.array(shuffled(all), { minLength: 1, maxLength: 4 })),
        (initial, orders) => {
          for (const order of orders) {
            const arrivals = arrive(order);
            const actual = observed(run(initial, arrivals).token);
            const expected = expectedToken(arrivals, oracleStart(initial));
            check(
              show(actual) === show(expected),
              () => `arrival order ${show(order.map((c) => [c.correlationId, c.action, c.errorCode]))}: got ${show(actual)}, oracle ${show(expected)}`,
            );
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('(e) history: exactly one event per distinct callback, in arrival order; an APPLIED event shows the state it produced', () => {
    fc.assert(
      fc.property(initialArb, arrivalsArb, (initial, arrivals) => {
        const store = run(initial, arrivals);
        const distinct = distinctCallbacks(arrivals);
        check(store.history.length === distinct.length, () => `${store.history.length} events for ${distinct.length} distinct callbacks`);
        store.history.forEach((event, i) => {
          const c = distinct[i]!;
          check(
            event.correlationId === c.correlationId && event.action === c.action && event.errorCode === c.errorCode && event.at === c.receivedAt,
            () => `event ${i} ${show(event)} is not the first delivery of ${show(c)}`,
          );
        });
        for (const step of store.steps) {
          if (step.event?.outcome !== 'APPLIED') continue;
          const after = step.after;
          check(after !== null && step.event.stateAfter === after.state, () => `APPLIED stateAfter is not the token state: ${describeStep(step)}`);
          // §3: lastAction / lastChangeSource describe the last applied callback; updatedAt is when it landed.
          const source = step.change.source;
          const expectedSource = source === 'WALLET' || source === 'TSP' || source === 'ISSUER' ? source : 'UNKNOWN';
          check(
            after !== null &&
              after.lastAction === step.change.action &&
              after.lastChangeSource === expectedSource &&
              after.lastOperationId === null &&
              after.lastOperationOrder === null &&
              after.updatedAt === step.change.receivedAt &&
              after.lastRenewedAt === (step.change.action === 'RENEW' ? step.change.receivedAt : (step.before?.lastRenewedAt ?? null)) &&
              after.walletProviderId === (step.change.walletProviderId ?? step.before?.walletProviderId ?? null),
            () => `applied token does not describe its callback: ${describeStep(step)}`,
          );
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('(f) a non-applied event records the state before it, and leaves the token as it was (version aside)', () => {
    fc.assert(
      fc.property(initialArb, arrivalsArb, (initial, arrivals) => {
        const store = run(initial, arrivals);
        for (const step of store.steps) {
          if (!step.event || step.event.outcome === 'APPLIED') continue;
          check(step.event.stateAfter === (step.before?.state ?? null), () => `stateAfter is not the state before: ${describeStep(step)}`);
          check(sameToken(step.after, step.before, true), () => `a non-applied event changed the token: ${describeStep(step)}`);
          const expected = step.change.errorCode !== null ? 'FAILED' : 'IGNORED';
          check(step.event.outcome === expected, () => `outcome ${step.event?.outcome}, expected ${expected}: ${describeStep(step)}`);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
