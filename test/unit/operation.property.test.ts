import fc from 'fast-check';
import { decideCallback } from '../../lambdas/domain/callback';
import {
  newOperation,
  recordSubmission,
  shouldSubmit,
  type D1Answer,
  type LcmAction,
  type Operation,
  type OperationStatus,
} from '../../lambdas/domain/operation';
import type { Token, TokenState } from '../../lambdas/domain/token';
import { dedupeKey, type HistoryEvent, type VirtualCardChange } from '../../lambdas/domain/virtual-card-change';
import { deepFreeze } from '../support/freeze';

/**
 * Properties of DESIGN §2 rules 2, 3, 4, 5 and 8 over random interleavings, for ONE token and up to 4 TOKEN-scope
 * operations of ours (created in order op1 < op2 < …), each producing D1 answers to its `updateCardState` calls
 * (accepted, transient, final 4xx — possibly after its callback), its callback (success or errorCode 221),
 * sometimes a second, different outcome, redeliveries, and a few external (WALLET) callbacks.
 *
 * The store is simulated in memory the way the DynamoDB adapter behaves: a set of dedupeKeys (a duplicate is
 * skipped entirely), a version bump on every write, decideCallback for callbacks, shouldSubmit/recordSubmission
 * for the submitter. The token outcome is checked against an independent, declarative oracle (below) that does
 * not call the product. On failure fast-check prints the seed and the shrunk counterexample.
 */

const RUNS = 400;
const MAX_ATTEMPTS = 3;
const T0 = Date.parse('2026-06-01T12:00:00.000Z');
const VC = 'vc-1';
const CARD = 'card-1';

// ---------------------------------------------------------------------------------------------------- scenario

type ExternalAction = 'SUSPEND' | 'RESUME' | 'DELETE';

interface CallbackSpec {
  correlationId: string;
  action: LcmAction | ExternalAction;
  errorCode: number | null;
  /** Index of our operation (creation order), or null for an external change. */
  owner: number | null;
}

type Item =
  { kind: 'call'; op: number; attempt: number } | { kind: 'answer'; op: number; attempt: number; answer: D1Answer } | { kind: 'callback'; cb: CallbackSpec };

/** An item stamped with its arrival time (the webhook / submitter clock). */
interface Arrival {
  item: Item;
  at: string;
}

interface OpSpec {
  action: LcmAction;
  /** D1's answers to attempts 1, 2, …: transients then a last answer (≤ MAX_ATTEMPTS in all). */
  chain: D1Answer[];
  callback: 'success' | 'failure' | 'none';
  /** A second, different outcome for the same (operation, token). */
  secondOutcome: boolean;
  dupes: number;
}

interface ExternalSpec {
  action: ExternalAction;
  failed: boolean;
  dupes: number;
}

interface Scenario {
  initial: TokenState;
  ops: OpSpec[];
  externals: ExternalSpec[];
  arrivals: Arrival[];
}

const transientArb = fc.constantFrom<D1Answer>(
  { kind: 'network-error' },
  { kind: 'timeout' },
  { kind: 'http-error', status: 429 },
  { kind: 'http-error', status: 503 },
  { kind: 'http-error', status: 400, responseCode: 221 },
  { kind: 'http-error', status: 400, responseCode: 921 },
);
const finalArb = fc.constantFrom<D1Answer>(
  { kind: 'http-error', status: 400, responseCode: 111 },
  { kind: 'http-error', status: 400 },
  { kind: 'http-error', status: 404 },
  { kind: 'http-error', status: 409 },
);
const lastAnswerArb = fc.oneof(
  { weight: 5, arbitrary: fc.constant<D1Answer>({ kind: 'accepted' }) },
  { weight: 2, arbitrary: transientArb },
  { weight: 1, arbitrary: finalArb },
);
const chainArb = fc.tuple(fc.array(transientArb, { maxLength: MAX_ATTEMPTS - 1 }), lastAnswerArb).map(([t, last]) => [...t, last]);

// DELETE is terminal and ends every interesting ordering: keep it rarer.
const actionArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<LcmAction>('SUSPEND', 'RESUME') },
  { weight: 1, arbitrary: fc.constant<LcmAction>('DELETE') },
);

const opSpecArb: fc.Arbitrary<OpSpec> = fc.record({
  action: actionArb,
  chain: chainArb,
  callback: fc.oneof(
    { weight: 6, arbitrary: fc.constant('success' as const) },
    { weight: 2, arbitrary: fc.constant('failure' as const) },
    { weight: 1, arbitrary: fc.constant('none' as const) },
  ),
  secondOutcome: fc.boolean(),
  dupes: fc.nat({ max: 2 }),
});

const externalSpecArb: fc.Arbitrary<ExternalSpec> = fc.record({
  action: actionArb,
  failed: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  dupes: fc.nat({ max: 1 }),
});

const opId = (i: number) => `op-${i + 1}`;

/** Everything that will happen, each item tagged with its lane: a lane's items keep their order. */
function itemsOf(ops: OpSpec[], externals: ExternalSpec[]): Array<{ lane: string; item: Item }> {
  const out: Array<{ lane: string; item: Item }> = [];
  ops.forEach((spec, i) => {
    spec.chain.forEach((answer, k) => {
      out.push({ lane: `d1-${i}`, item: { kind: 'call', op: i, attempt: k + 1 } });
      out.push({ lane: `d1-${i}`, item: { kind: 'answer', op: i, attempt: k + 1, answer } });
    });
    if (spec.callback !== 'none') {
      const first: CallbackSpec = { correlationId: opId(i), action: spec.action, errorCode: spec.callback === 'failure' ? 221 : null, owner: i };
      for (let d = 0; d <= spec.dupes; d++) out.push({ lane: `cb-${i}-${d}`, item: { kind: 'callback', cb: first } });
      if (spec.secondOutcome) {
        const second: CallbackSpec = { ...first, errorCode: first.errorCode === null ? 221 : null };
        out.push({ lane: `cb2-${i}`, item: { kind: 'callback', cb: second } });
      }
    }
  });
  externals.forEach((spec, k) => {
    const cb: CallbackSpec = { correlationId: `ext-${k + 1}`, action: spec.action, errorCode: spec.failed ? 221 : null, owner: null };
    for (let d = 0; d <= spec.dupes; d++) out.push({ lane: `ext-${k}-${d}`, item: { kind: 'callback', cb } });
  });
  return out;
}

/** A random permutation, then each lane's items put back in their own order over the positions the lane got. */
function interleave(items: Array<{ lane: string; item: Item }>, perm: number[]): Arrival[] {
  const placed = perm.map((i) => items[i]!);
  const byLane = new Map<string, Item[]>();
  for (const { lane, item } of items) byLane.set(lane, [...(byLane.get(lane) ?? []), item]);
  const cursor = new Map<string, number>();
  return placed.map(({ lane }, position) => {
    const n = cursor.get(lane) ?? 0;
    cursor.set(lane, n + 1);
    return { item: byLane.get(lane)![n]!, at: new Date(T0 + 60_000 + position * 1000).toISOString() };
  });
}

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    initial: fc.constantFrom<TokenState>('ACTIVE', 'SUSPENDED'),
    ops: fc.array(opSpecArb, { minLength: 1, maxLength: 4 }),
    externals: fc.array(externalSpecArb, { maxLength: 3 }),
  })
  .chain(({ initial, ops, externals }) => {
    const items = itemsOf(ops, externals);
    const indices = items.map((_, i) => i);
    return fc
      .shuffledSubarray(indices, { minLength: indices.length, maxLength: indices.length })
      .map((perm) => ({ initial, ops, externals, arrivals: interleave(items, perm) }));
  });

const isDuplicateFree = (arrivals: Arrival[]): Arrival[] => {
  const seen = new Set<string>();
  return arrivals.filter(({ item }) => {
    if (item.kind !== 'callback') return true;
    const id = oracleIdentity(item.cb);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
};

// ---------------------------------------------------------------------------------------------------- simulated store

interface Snapshot {
  token: Token;
  ops: Operation[];
  history: number;
}

interface Step {
  arrival: Arrival;
  duplicate: boolean;
  /** For a `call` item: whether shouldSubmit let the call reach D1. */
  called: boolean;
  before: Snapshot;
  after: Snapshot;
}

interface Run {
  token: Token;
  ops: Operation[];
  history: HistoryEvent[];
  steps: Step[];
}

function initialToken(state: TokenState): Token {
  return deepFreeze({
    virtualCardId: VC,
    issuerCardRefId: CARD,
    walletProviderId: 'APPLE_PAY',
    tokenStorageId: null,
    walletCardRefId: null,
    device: null,
    state,
    lastAction: state === 'ACTIVE' ? 'RESUME' : 'SUSPEND',
    lastChangeSource: 'WALLET',
    lastOperationId: null,
    renewals: 0,
    lastRenewedAt: null,
    updatedAt: new Date(T0 - 86_400_000).toISOString(),
    lastOperationOrder: null,
    lastStateChangeAt: new Date(T0 - 86_400_000).toISOString(),
    version: 1,
  });
}

function createOps(specs: OpSpec[]): Operation[] {
  // Created in order, one second apart; ids deliberately unrelated to the order string's tie-break.
  return specs.map((spec, i) =>
    deepFreeze(
      newOperation({ operationId: opId(i), action: spec.action, issuerCardRefId: CARD, virtualCardId: VC, expectedTokens: [VC], now: new Date(T0 + i * 1000) }),
    ),
  );
}

function simulate(scenario: Scenario, arrivals: Arrival[]): Run {
  let token = initialToken(scenario.initial);
  const ops = createOps(scenario.ops);
  const byCorrelation = new Map(ops.map((op, i) => [op.correlationId, i]));
  const history: HistoryEvent[] = [];
  const dedupe = new Set<string>();
  // Submitter lanes: the attempt whose message is queued next, and the call in flight.
  const next: Array<number | null> = ops.map(() => 1);
  const inFlight: Array<number | null> = ops.map(() => null);
  const steps: Step[] = [];
  const snapshot = (): Snapshot => ({ token, ops: [...ops], history: history.length });

  for (const arrival of arrivals) {
    const before = snapshot();
    const { item, at } = arrival;
    let duplicate = false;
    let called = false;

    if (item.kind === 'callback') {
      const change: VirtualCardChange = deepFreeze({
        correlationId: item.cb.correlationId,
        issuerCardRefId: CARD,
        virtualCardId: VC,
        action: item.cb.action,
        errorCode: item.cb.errorCode,
        source: item.cb.owner === null ? 'WALLET' : 'ISSUER',
        walletProviderId: null,
        receivedAt: at,
      });
      const key = dedupeKey(change);
      if (dedupe.has(key)) {
        duplicate = true;
      } else {
        const index = byCorrelation.get(change.correlationId);
        const operation = index === undefined ? null : ops[index]!;
        const decision = decideCallback(token, operation, change);
        if (operation === null && decision.operation !== null) throw new Error('an external callback produced an operation');
        if (decision.operation && decision.operation.operationId !== operation?.operationId) throw new Error('decision for another operation');
        // One atomic write: dedupe record + history event + token (version + 1) + operation (version + 1).
        dedupe.add(key);
        history.push(deepFreeze(decision.change.event));
        if (decision.change.token) token = deepFreeze({ ...decision.change.token, version: token.version + 1 });
        if (decision.operation && index !== undefined) ops[index] = deepFreeze({ ...decision.operation, version: ops[index]!.version + 1 });
      }
    } else if (item.kind === 'call') {
      if (next[item.op] === item.attempt) {
        next[item.op] = null;
        if (shouldSubmit(ops[item.op]!, item.attempt).kind === 'call') {
          inFlight[item.op] = item.attempt;
          called = true;
        }
      }
    } else if (inFlight[item.op] === item.attempt) {
      const op = ops[item.op]!;
      const out = recordSubmission(op, item.attempt, item.answer, MAX_ATTEMPTS, new Date(at));
      ops[item.op] = deepFreeze({ ...out.operation, version: op.version + 1 });
      inFlight[item.op] = null;
      next[item.op] = out.retryAttempt;
    }
    steps.push({ arrival, duplicate, called, before, after: snapshot() });
  }
  return { token, ops, history, steps };
}

// ---------------------------------------------------------------------------------------------------- oracle

/**
 * Independent reading of rules 2–5 for one token fed our operations' callbacks and external ones, in arrival
 * order. Declarative where the product is incremental: it never calls decideCallback / applyVirtualCardChange.
 *
 *  - rule 2: a callback is (correlationId, virtualCardId, action, errorCode); later copies count for nothing;
 *  - rule 3: a failure never changes the token; per operation only its first callback counts (a later one is
 *    IGNORED), failures included;
 *  - rule 5: among the successes that count, the token stands at the NEWEST-CREATED operation of ours that
 *    reported since the last external success; with no such operation, at that external success;
 *  - rule 4: once a DELETE is what the token stands at, it is DELETED for good and later successes are IGNORED.
 */
const oracleIdentity = (cb: CallbackSpec): string => JSON.stringify([cb.correlationId, VC, cb.action, cb.errorCode]);

const STATE_OF: Record<string, TokenState> = { SUSPEND: 'SUSPENDED', RESUME: 'ACTIVE', DELETE: 'DELETED' };

interface OracleResult {
  finalState: TokenState;
  /** One per distinct callback, in arrival order. */
  history: Array<{ correlationId: string; outcome: 'APPLIED' | 'SUPERSEDED' | 'FAILED' | 'IGNORED' }>;
  /** Per operation index: its recorded (first) outcome and when, or undefined when no callback arrived. */
  firstOutcome: Map<number, { outcome: 'SUCCEEDED' | 'SUPERSEDED' | 'FAILED'; errorCode?: number; at: string }>;
}

function oracle(initial: TokenState, arrivals: Arrival[]): OracleResult {
  const distinct: Array<{ cb: CallbackSpec; at: string }> = [];
  const seen = new Set<string>();
  for (const { item, at } of arrivals) {
    if (item.kind !== 'callback' || seen.has(oracleIdentity(item.cb))) continue;
    seen.add(oracleIdentity(item.cb));
    distinct.push({ cb: item.cb, at });
  }

  // Which callbacks "count": external successes, and the first callback of each operation if a success.
  const reported = new Set<number>();
  const firstOfOp = distinct.map(({ cb }) => {
    if (cb.owner === null) return false;
    const first = !reported.has(cb.owner);
    reported.add(cb.owner);
    return first;
  });
  const counts = distinct.map(({ cb }, i) => cb.errorCode === null && (cb.owner === null || firstOfOp[i]!));

  /** What the token stands at after the counting successes among distinct[0..t] (DELETE ignored). */
  const standsAt = (t: number): number | null => {
    const idx = distinct.map((_, i) => i).filter((i) => i <= t && counts[i]);
    const lastExternal = Math.max(-1, ...idx.filter((i) => distinct[i]!.cb.owner === null));
    const oursSince = idx.filter((i) => i > lastExternal && distinct[i]!.cb.owner !== null);
    if (oursSince.length > 0) return oursSince.reduce((a, b) => (distinct[b]!.cb.owner! > distinct[a]!.cb.owner! ? b : a));
    return lastExternal >= 0 ? lastExternal : null;
  };

  let deletedAt: number | null = null;
  const history: OracleResult['history'] = [];
  const firstOutcome: OracleResult['firstOutcome'] = new Map();
  distinct.forEach(({ cb, at }, t) => {
    const deleted = deletedAt !== null;
    let outcome: OracleResult['history'][number]['outcome'];
    if (cb.owner !== null && !firstOfOp[t])
      outcome = 'IGNORED'; // second outcome for (operation, token)
    else if (cb.errorCode !== null) outcome = 'FAILED';
    else if (deleted)
      outcome = 'IGNORED'; // token deleted
    else outcome = standsAt(t) === t ? 'APPLIED' : 'SUPERSEDED';
    history.push({ correlationId: cb.correlationId, outcome });

    if (cb.owner !== null && firstOfOp[t]) {
      firstOutcome.set(
        cb.owner,
        cb.errorCode !== null ? { outcome: 'FAILED', errorCode: cb.errorCode, at } : { outcome: outcome === 'SUPERSEDED' ? 'SUPERSEDED' : 'SUCCEEDED', at },
      );
    }
    if (outcome === 'APPLIED' && cb.action === 'DELETE') deletedAt = t;
  });

  let finalState: TokenState;
  if (deletedAt !== null) finalState = 'DELETED';
  else {
    const at = standsAt(distinct.length - 1);
    finalState = at === null ? initial : STATE_OF[distinct[at]!.cb.action]!;
  }
  return { finalState, history, firstOutcome };
}

// ---------------------------------------------------------------------------------------------------- helpers

// Rule 8, read from the design (not the product's isFinal): PENDING 0 < SUBMITTED 1 < final 2.
const RANK: Record<OperationStatus, number> = { PENDING: 0, SUBMITTED: 1, SUCCEEDED: 2, PARTIALLY_FAILED: 2, FAILED: 2 };
const isFinal = (status: OperationStatus): boolean => RANK[status] === 2;

const sameFailure = (a: Operation, b: Operation): boolean => JSON.stringify(a.failure) === JSON.stringify(b.failure);

const describeScenario = (s: Scenario): string =>
  [
    `initial=${s.initial}`,
    ...s.ops.map(
      (o, i) =>
        `${opId(i)} ${o.action} chain=${o.chain.map((a) => (a.kind === 'http-error' ? `${a.status}${a.responseCode ? `/${a.responseCode}` : ''}` : a.kind)).join(',')}`,
    ),
    ...s.arrivals.map(({ item }) =>
      item.kind === 'callback'
        ? `  cb ${item.cb.correlationId} ${item.cb.action}${item.cb.errorCode ? ` err=${item.cb.errorCode}` : ''}`
        : item.kind === 'call'
          ? `  call ${opId(item.op)}#${item.attempt}`
          : `  answer ${opId(item.op)}#${item.attempt}`,
    ),
  ].join('\n');

function check(scenario: Scenario, assertion: () => void): void {
  try {
    assertion();
  } catch (error) {
    (error as Error).message = `${(error as Error).message}\nscenario:\n${describeScenario(scenario)}`;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------- properties

describe('operations of ours + external changes, random interleavings (rules 2, 3, 4, 5, 8)', () => {
  it('(a) an operation status never moves backwards, and a final status (and its failure) never changes', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const run = simulate(scenario, scenario.arrivals);
        const violations: string[] = [];
        run.steps.forEach((step, n) => {
          step.before.ops.forEach((prev, i) => {
            const cur = step.after.ops[i]!;
            const where = () =>
              `step ${n} (${opId(i)}): ${prev.status}${prev.failure ? `/${prev.failure.reason}` : ''} → ${cur.status}${cur.failure ? `/${cur.failure.reason}` : ''}`;
            if (RANK[cur.status] < RANK[prev.status]) violations.push(`moved backwards at ${where()}`);
            if (isFinal(prev.status) && (cur.status !== prev.status || !sameFailure(cur, prev))) violations.push(`final status changed at ${where()}`);
          });
        });
        check(scenario, () => expect(violations).toEqual([]));
      }),
      { numRuns: RUNS },
    );
  });

  it('(b) a late D1 answer never undoes a callback-derived status; any callback stops further calls', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const run = simulate(scenario, scenario.arrivals);
        const violations: string[] = [];
        scenario.ops.forEach((_spec, i) => {
          let finalBeforeCallback: boolean | null = null; // null until a callback outcome is recorded
          run.steps.forEach((step, n) => {
            const prev = step.before.ops[i]!;
            const cur = step.after.ops[i]!;
            if (finalBeforeCallback === null && cur.tokens.length > 0) finalBeforeCallback = isFinal(prev.status);
            if (finalBeforeCallback === null) return;
            const where = () => `step ${n} (${opId(i)}): ${cur.status}${cur.failure ? ` ${JSON.stringify(cur.failure)}` : ''}`;
            const item = step.arrival.item;
            // Rule 8: any callback stops further submission attempts.
            if (prev.tokens.length > 0 && item.kind === 'call' && item.op === i && step.called) violations.push(`D1 called after a callback at ${where()}`);
            if (cur.status === 'PENDING') violations.push(`PENDING after a callback at ${where()}`);
            if (finalBeforeCallback) return; // already final (D1_REJECTED / D1_UNAVAILABLE) when the callback came: (a) keeps it
            // The status came from the callback: SUCCEEDED, or FAILED CALLBACK_ERROR; never a D1_* failure.
            if (cur.failure?.reason === 'D1_REJECTED' || cur.failure?.reason === 'D1_UNAVAILABLE')
              violations.push(`D1 failure over a callback status at ${where()}`);
            const first = cur.tokens[0]!;
            const expected =
              first.outcome === 'FAILED'
                ? { status: 'FAILED', failure: { reason: 'CALLBACK_ERROR', errorCode: first.errorCode } }
                : { status: 'SUCCEEDED', failure: null };
            if (cur.status !== expected.status || JSON.stringify(cur.failure) !== JSON.stringify(expected.failure)) {
              violations.push(`expected ${JSON.stringify(expected)} from the ${first.outcome} callback at ${where()}`);
            }
          });
        });
        check(scenario, () => expect(violations).toEqual([]));
      }),
      { numRuns: RUNS },
    );
  });

  it('(c) final token state (and each history outcome) follows the declarative oracle', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const run = simulate(scenario, scenario.arrivals);
        const expected = oracle(scenario.initial, scenario.arrivals);
        check(scenario, () => {
          expect(run.history.map((e) => ({ correlationId: e.correlationId, outcome: e.outcome }))).toEqual(expected.history);
          expect(run.token.state).toBe(expected.finalState);
          // Every write bumped the version once: one per distinct callback.
          expect(run.token.version).toBe(1 + expected.history.length);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('(d) duplicates never change anything', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const run = simulate(scenario, scenario.arrivals);
        const clean = simulate(scenario, isDuplicateFree(scenario.arrivals));
        check(scenario, () => {
          // The product's dedupeKey agrees with the oracle's identity on what is a duplicate…
          const expectedDuplicates = scenario.arrivals.length - isDuplicateFree(scenario.arrivals).length;
          expect(run.steps.filter((s) => s.duplicate)).toHaveLength(expectedDuplicates);
          // …a duplicate step leaves everything as it was…
          for (const step of run.steps.filter((s) => s.duplicate)) expect(step.after).toEqual(step.before);
          // …and the run with redeliveries ends exactly like the run without them.
          expect(run.token).toEqual(clean.token);
          expect(run.ops).toEqual(clean.ops);
          expect(run.history).toEqual(clean.history);
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('(e) the first outcome per (operation, token) is the one in operation.tokens', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const run = simulate(scenario, scenario.arrivals);
        const expected = oracle(scenario.initial, scenario.arrivals);
        check(scenario, () => {
          run.ops.forEach((op, i) => {
            const first = expected.firstOutcome.get(i);
            if (first === undefined) {
              expect(op.tokens).toEqual([]);
              return;
            }
            expect(op.tokens).toEqual([{ virtualCardId: VC, ...first }]);
          });
        });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('oracle sanity (hand-written scenarios)', () => {
  const spec = (action: LcmAction): OpSpec => ({ action, chain: [{ kind: 'accepted' }], callback: 'success', secondOutcome: false, dupes: 0 });
  const cb = (correlationId: string, action: LcmAction | ExternalAction, owner: number | null, errorCode: number | null = null): Item => ({
    kind: 'callback',
    cb: { correlationId, action, errorCode, owner },
  });
  const stamp = (items: Item[]): Arrival[] => items.map((item, i) => ({ item, at: new Date(T0 + 60_000 + i * 1000).toISOString() }));
  const scenario = (ops: OpSpec[], items: Item[]): Scenario => ({ initial: 'ACTIVE', ops, externals: [], arrivals: stamp(items) });

  it.each<[string, Scenario, TokenState, string[]]>([
    [
      'op2 then op1 → op1 SUPERSEDED',
      scenario([spec('SUSPEND'), spec('RESUME')], [cb('op-2', 'RESUME', 1), cb('op-1', 'SUSPEND', 0)]),
      'ACTIVE',
      ['APPLIED', 'SUPERSEDED'],
    ],
    [
      'op2, external, op1 → op1 APPLIED',
      scenario([spec('RESUME'), spec('RESUME')], [cb('op-2', 'RESUME', 1), cb('ext-1', 'SUSPEND', null), cb('op-1', 'RESUME', 0)]),
      'ACTIVE',
      ['APPLIED', 'APPLIED', 'APPLIED'],
    ],
    [
      'op2 DELETE superseding nothing, op1 after → IGNORED',
      scenario([spec('SUSPEND'), spec('DELETE')], [cb('op-2', 'DELETE', 1), cb('op-1', 'SUSPEND', 0)]),
      'DELETED',
      ['APPLIED', 'IGNORED'],
    ],
    [
      'op1 DELETE superseded by op2',
      scenario([spec('DELETE'), spec('SUSPEND')], [cb('op-2', 'SUSPEND', 1), cb('op-1', 'DELETE', 0)]),
      'SUSPENDED',
      ['APPLIED', 'SUPERSEDED'],
    ],
    [
      'first failure then success → IGNORED',
      scenario([spec('SUSPEND')], [cb('op-1', 'SUSPEND', 0, 221), cb('op-1', 'SUSPEND', 0)]),
      'ACTIVE',
      ['FAILED', 'IGNORED'],
    ],
  ])('%s', (_name, s, state, outcomes) => {
    const expected = oracle(s.initial, s.arrivals);
    expect(expected.finalState).toBe(state);
    expect(expected.history.map((h) => h.outcome)).toEqual(outcomes);
    const run = simulate(s, s.arrivals);
    expect(run.token.state).toBe(state);
    expect(run.history.map((h) => h.outcome)).toEqual(outcomes);
  });
});
