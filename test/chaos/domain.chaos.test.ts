import fc from 'fast-check';
import { decideCallback } from '../../lambdas/domain/callback';
import { newOperation, recordSubmission, shouldSubmit, type D1Answer, type Operation } from '../../lambdas/domain/operation';
import type { Token, TokenState } from '../../lambdas/domain/token';
import { dedupeKey, type HistoryEvent, type VirtualCardChange } from '../../lambdas/domain/virtual-card-change';
import { chaosSeed, report, runs } from './support/config';
import { LifecycleOracle, STATUS_RANK, identityOf, isFinalStatus, type OpStatus } from './support/lifecycle-oracle';

/**
 * Domain-only chaos: random interleavings of everything that can happen to 1–3 tokens on 1–2 cards
 * — our operations of TOKEN and CARD scope, the submitter's attempts and D1's answers (accepted, transient, final;
 * timeouts D1 nevertheless processed), D1's callbacks (success / errorCode 221, duplicates, a second different
 * outcome, reordering, drops), external wallet/TSP changes, concurrent consumers of the same callback, and
 * consumer crashes after the write but before the SQS delete.
 *
 * The store is simulated in memory exactly like the DynamoDB adapters: every apply is READ (token + operation),
 * DECIDE (decideCallback), then one conditional WRITE (event put under its dedupe key with attribute_not_exists,
 * token on its version, operation on its version) that fails as DUPLICATE or CONFLICT (→ re-read); the
 * submitter reads, checks shouldSubmit, calls, enqueues the retry, then saves recordSubmission on the version it
 * read (re-reading on conflict). Read and write of one consumer are separate steps, so other steps interleave.
 *
 * Everything committed is replayed through an independent oracle (support/lifecycle-oracle.ts) and the product's
 * state is compared with it. Invariants:
 *   I1 each distinct callback is recorded exactly once (and the store's DUPLICATE verdicts are exactly the oracle's);
 *   I2 every history event (outcome, stateAfter, source) and every token's final fields equal the oracle's;
 *   I3 no operation status moves backwards; a final status (and its failure) never changes;
 *   I4 an operation whose every expected token reported is final;
 *   I5 no operation PENDING once D1's 200 or a callback was recorded for it; none PENDING once everything drained;
 *   I6 operations (expected set, status, failure, per-token outcomes) equal the oracle's;
 *   I7 no D1 call once a callback was recorded or the operation left PENDING (rule 8);
 *   I8 a token's version moves once per event recorded against it (the history sequence has no gaps);
 *   I9 rule 5: external changes apply in arrival order — a token's final state and renewals equal its recorded
 *      callbacks replayed in receivedAt order (unless one of our operations' callbacks was overtaken or overtook:
 *      those follow creation order). receivedAt is stamped when a delivery ARRIVES at the webhook (a move of its
 *      own), independent of when a consumer processes it, so arrival and receivedAt agree. Also lastAction,
 *      lastChangeSource and lastOperationId, and RENEWs overtaking or overtaken included (they set no state). One
 *      deviation, counted: around a swapped DELETE only the state is compared (DELETED is terminal whatever the
 *      order; a RENEW on either side of it may or may not have counted, and of two DELETEs the first applied stands).
 */

const SEED = chaosSeed();
const NUM_RUNS = runs('CHAOS_DOMAIN_RUNS', 10_000, 500);
const MAX_ATTEMPTS = 3;
const T0 = Date.parse('2026-06-01T12:00:00.000Z');
const MAX_STEPS = 5_000;

// ------------------------------------------------------------------------------------------------ scenario

type Initial = TokenState | 'UNKNOWN';
type Action = 'SUSPEND' | 'RESUME' | 'DELETE';

interface TokenSpec {
  card: number;
  initial: Initial;
}

interface TargetSpec {
  /** Index in the universe of tokens. */
  token: number;
  failed: boolean;
  /** Extra copies D1 sends of this callback. */
  dupes: number;
  /** D1 later also reports the other outcome for the same (operation, token). */
  secondOutcome: boolean;
  dropped: boolean;
}

interface OpSpec {
  scope: 'TOKEN' | 'CARD';
  /** token index (TOKEN) or card index (CARD). */
  target: number;
  action: Action;
  /** D1's answers to attempts 1..MAX_ATTEMPTS. */
  answers: D1Answer[];
  /** Whether D1 processed a call it answered with a timeout / network error (it often has). */
  processesOnTimeout: boolean;
  /** Which tokens D1 reports on (CARD scope: D1's view of the card, which may differ from ours). */
  targets: TargetSpec[];
}

interface ExternalSpec {
  token: number;
  correlation: number;
  action: string;
  errorCode: number | null;
  source: string | null;
  dupes: number;
}

interface Scenario {
  cards: number;
  tokens: TokenSpec[];
  ops: OpSpec[];
  externals: ExternalSpec[];
  /** Drives the interleaving: each step takes the next value modulo the number of enabled moves. */
  choices: number[];
}

const transientArb = fc.constantFrom<D1Answer>(
  { kind: 'network-error' },
  { kind: 'timeout' },
  { kind: 'http-error', status: 429 },
  { kind: 'http-error', status: 500, responseCode: 921 },
  { kind: 'http-error', status: 503 },
  { kind: 'http-error', status: 400, responseCode: 221 },
  { kind: 'http-error', status: 400, responseCode: 321 },
);
const finalArb = fc.constantFrom<D1Answer>(
  { kind: 'http-error', status: 400, responseCode: 432 },
  { kind: 'http-error', status: 400, responseCode: 119 },
  { kind: 'http-error', status: 404 },
  { kind: 'http-error', status: 403 },
);
const answerArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant<D1Answer>({ kind: 'accepted' }) },
  { weight: 3, arbitrary: transientArb },
  { weight: 1, arbitrary: finalArb },
);
const actionArb = fc.oneof({ weight: 3, arbitrary: fc.constantFrom<Action>('SUSPEND', 'RESUME') }, { weight: 1, arbitrary: fc.constant<Action>('DELETE') });
const initialArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Initial>('UNKNOWN') },
  { weight: 4, arbitrary: fc.constantFrom<Initial>('ACTIVE', 'SUSPENDED') },
  { weight: 1, arbitrary: fc.constantFrom<Initial>('INACTIVE', 'DELETED') },
);
const EXTERNAL_ACTIONS = ['ACTIVATE', 'RESUME', 'SUSPEND', 'DELETE', 'DELETE_FROM_APP', 'RENEW', 'RENEW', 'TOKENIZE_LATER'];

function scenarioArb(): fc.Arbitrary<Scenario> {
  return fc
    .record({ cards: fc.integer({ min: 1, max: 2 }), count: fc.integer({ min: 1, max: 3 }) })
    .chain(({ cards, count }) => {
      const tokenArb = fc.record({ card: fc.integer({ min: 0, max: cards - 1 }), initial: initialArb });
      return fc.array(tokenArb, { minLength: count, maxLength: count }).map((tokens) => ({ cards, tokens }));
    })
    .chain(({ cards, tokens }) => {
      const targetArb = (token: number): fc.Arbitrary<TargetSpec> =>
        fc.record({
          token: fc.constant(token),
          failed: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
          dupes: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
          secondOutcome: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
          dropped: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        });
      const opArb: fc.Arbitrary<OpSpec> = fc
        .record({
          scope: fc.constantFrom<'TOKEN' | 'CARD'>('TOKEN', 'CARD'),
          pick: fc.nat(),
          action: actionArb,
          answers: fc.array(answerArb, { minLength: MAX_ATTEMPTS, maxLength: MAX_ATTEMPTS }),
          processesOnTimeout: fc.boolean(),
          mask: fc.nat({ max: 7 }),
        })
        .chain(({ scope, pick, action, answers, processesOnTimeout, mask }) => {
          const target = scope === 'TOKEN' ? pick % tokens.length : pick % cards;
          // TOKEN: D1 reports on that token; CARD: on the card's tokens D1 still lists (a subset, maybe not ours).
          const onCard = tokens
            .map((t, i) => ({ t, i }))
            .filter(({ t }) => t.card === target)
            .map(({ i }) => i);
          const reported = scope === 'TOKEN' ? [target] : onCard.filter((_, k) => (mask >> k) & 1 || mask === 7);
          return fc.tuple(...reported.map(targetArb)).map((targets) => ({ scope, target, action, answers, processesOnTimeout, targets }));
        });
      const externalArb: fc.Arbitrary<ExternalSpec> = fc.record({
        token: fc.nat({ max: tokens.length - 1 }),
        correlation: fc.nat({ max: 3 }),
        action: fc.constantFrom(...EXTERNAL_ACTIONS),
        errorCode: fc.oneof({ weight: 5, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constant(221) }),
        source: fc.constantFrom<string | null>('WALLET', 'TSP', null, 'MOBILE_BANKING'),
        dupes: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 2 }) }),
      });
      return fc.record({
        cards: fc.constant(cards),
        tokens: fc.constant(tokens),
        ops: fc.array(opArb, { minLength: 1, maxLength: 4 }),
        externals: fc.array(externalArb, { maxLength: 4 }),
        choices: fc.array(fc.nat({ max: 0xffff }), { maxLength: 300 }),
      });
    });
}

// ------------------------------------------------------------------------------------------------ simulation

const vcOf = (i: number) => `vc-${i + 1}`;
const cardOf = (i: number) => `card-${String.fromCharCode(65 + i)}`;
const opIdOf = (i: number) => `op-${i + 1}`;

interface Delivery {
  /** receivedAt is stamped when the delivery arrives at the webhook (`arrived`), not when D1 sends it. */
  change: VirtualCardChange;
  arrived: boolean;
  /** Set once the consumer has read the token and the operation. */
  snapshot: { token: Token | null; op: Operation | null } | null;
}

interface SubmitMessage {
  opId: string;
  attempt: number;
}

interface InFlightCall extends SubmitMessage {
  read: Operation;
  answer: D1Answer;
}

interface Store {
  tokens: Map<string, Token>;
  ops: Map<string, Operation>;
  /** Per token, the events in the order their writes succeeded (the LSI order), with their dedupe keys. */
  events: Map<string, Array<{ key: string; event: HistoryEvent; change: VirtualCardChange; withToken: boolean }>>;
  dedupe: Set<string>;
  sequence: number;
}

type LogEntry =
  | { kind: 'request'; opIndex: number; rejected: boolean; expected: string[] | null }
  | { kind: 'answer'; opId: string; attempt: number; answer: D1Answer }
  | { kind: 'callback'; change: VirtualCardChange; duplicate: boolean; event: HistoryEvent | null };

interface Run {
  store: Store;
  log: LogEntry[];
  violations: string[];
  steps: number;
  initialVersions: Map<string, number>;
}

function initialStore(scenario: Scenario): { store: Store; initialVersions: Map<string, number> } {
  const store: Store = { tokens: new Map(), ops: new Map(), events: new Map(), dedupe: new Set(), sequence: 0 };
  const initialVersions = new Map<string, number>();
  scenario.tokens.forEach((spec, i) => {
    if (spec.initial === 'UNKNOWN') return;
    store.tokens.set(vcOf(i), {
      virtualCardId: vcOf(i),
      issuerCardRefId: cardOf(spec.card),
      walletProviderId: 'APPLE_PAY',
      tokenStorageId: null,
      walletCardRefId: null,
      device: null,
      state: spec.initial,
      lastAction: null,
      lastChangeSource: 'RECONCILIATION',
      lastOperationId: null,
      renewals: 0,
      lastRenewedAt: null,
      updatedAt: new Date(T0 - 86_400_000).toISOString(),
      lastOperationOrder: null,
      lastStateChangeAt: new Date(T0 - 86_400_000).toISOString(),
      version: 3,
    });
    initialVersions.set(vcOf(i), 3);
  });
  return { store, initialVersions };
}

function simulate(scenario: Scenario): Run {
  const { store, initialVersions } = initialStore(scenario);
  const log: LogEntry[] = [];
  const violations: string[] = [];
  const uncreated = scenario.ops.map((_, i) => i);
  const messages: SubmitMessage[] = [];
  const inFlight: InFlightCall[] = [];
  const deliveries: Delivery[] = [];
  /** Operations for which D1 recorded an accepted answer (I5). */
  const accepted = new Set<string>();
  let clock = 0;
  let choiceIndex = 0;
  // Past the generated choices: odd values (never a crash) that still vary the pick, so every run drains.
  const nextChoice = (): number => scenario.choices[choiceIndex++] ?? 2 * choiceIndex + 1;
  const now = () => new Date(T0 + 60_000 + clock * 1000);

  const specOf = (opId: string) => scenario.ops[Number(opId.slice(3)) - 1]!;

  /** D1 processed a call: it sends its callbacks (again, if it processes the same request twice). */
  const d1Processes = (opId: string): void => {
    const op = store.ops.get(opId)!;
    for (const t of specOf(opId).targets) {
      if (t.dropped) continue;
      const base = {
        correlationId: op.correlationId,
        issuerCardRefId: cardOf(scenario.tokens[t.token]!.card),
        virtualCardId: vcOf(t.token),
        action: op.action,
        source: 'ISSUER',
        walletProviderId: 'APPLE_PAY',
      };
      for (let d = 0; d <= t.dupes; d++)
        deliveries.push({ change: { ...base, errorCode: t.failed ? 221 : null, receivedAt: '' }, arrived: false, snapshot: null });
      if (t.secondOutcome) deliveries.push({ change: { ...base, errorCode: t.failed ? null : 221, receivedAt: '' }, arrived: false, snapshot: null });
    }
  };

  scenario.externals.forEach((e) => {
    const token = scenario.tokens[e.token]!;
    for (let d = 0; d <= e.dupes; d++) {
      deliveries.push({
        change: {
          correlationId: `ext-${e.correlation}`,
          issuerCardRefId: cardOf(token.card),
          virtualCardId: vcOf(e.token),
          action: e.action,
          errorCode: e.errorCode,
          source: e.source,
          walletProviderId: 'GOOGLE_PAY',
          receivedAt: '',
        },
        arrived: false,
        snapshot: null,
      });
    }
  });

  const statusesBefore = (): Map<string, { status: OpStatus; failure: string }> =>
    new Map([...store.ops.values()].map((op) => [op.operationId, { status: op.status, failure: JSON.stringify(op.failure) }]));

  type Move = () => void;
  let steps = 0;
  for (; steps < MAX_STEPS; steps++) {
    clock++;
    const moves: Move[] = [];

    // Request an operation (POST /v1/lcm-operations), as request-operation.ts does.
    for (const opIndex of uncreated) {
      moves.push(() => {
        uncreated.splice(uncreated.indexOf(opIndex), 1);
        const spec = scenario.ops[opIndex]!;
        const operationId = opIdOf(opIndex);
        const vc = spec.scope === 'TOKEN' ? vcOf(spec.target) : undefined;
        const card = spec.scope === 'TOKEN' ? cardOf(scenario.tokens[spec.target]!.card) : cardOf(spec.target);
        if (vc !== undefined && store.tokens.get(vc)?.state === 'DELETED') {
          log.push({ kind: 'request', opIndex, rejected: true, expected: null });
          return;
        }
        const expectedTokens =
          vc !== undefined
            ? [vc]
            : [...store.tokens.values()]
                .filter((t) => t.issuerCardRefId === card && t.state !== 'DELETED')
                .map((t) => t.virtualCardId)
                .sort();
        const op = newOperation({
          operationId,
          action: spec.action,
          issuerCardRefId: card,
          virtualCardId: vc,
          expectedTokens,
          now: now(),
          sequence: ++store.sequence,
        });
        store.ops.set(operationId, op);
        messages.push({ opId: operationId, attempt: 1 });
        log.push({ kind: 'request', opIndex, rejected: false, expected: expectedTokens });
      });
    }

    // The submitter receives an attempt: read, shouldSubmit, call D1 (which may process it and call back).
    messages.forEach((message, m) => {
      moves.push(() => {
        messages.splice(m, 1);
        const op = store.ops.get(message.opId);
        if (!op || shouldSubmit(op, message.attempt).kind === 'skip') return;
        if (op.tokens.length > 0 || op.status !== 'PENDING')
          violations.push(`I7: D1 called for ${op.operationId} attempt ${message.attempt} while ${op.status} with ${op.tokens.length} outcome(s)`);
        const answer = specOf(message.opId).answers[message.attempt - 1] ?? { kind: 'accepted' };
        const processes =
          answer.kind === 'accepted' || ((answer.kind === 'timeout' || answer.kind === 'network-error') && specOf(message.opId).processesOnTimeout);
        if (processes) d1Processes(message.opId);
        inFlight.push({ ...message, read: op, answer });
      });
    });

    // D1's answer comes back: enqueue the retry, then save on the version read (submit-operation.ts). A crash
    // before the save (1 in 16) leaves the SQS message to be received again: the same attempt is made again.
    inFlight.forEach((call, c) => {
      moves.push(() => {
        inFlight.splice(c, 1);
        const crash = (nextChoice() & 15) === 0;
        let operation = call.read;
        let enqueued = false;
        for (let conflict = 0; ; conflict++) {
          if (conflict > 8) throw new Error('submitter livelock');
          const outcome = recordSubmission(operation, call.attempt, call.answer, MAX_ATTEMPTS, now());
          if (outcome.retryAttempt !== null && !enqueued) {
            messages.push({ opId: call.opId, attempt: outcome.retryAttempt });
            enqueued = true;
          }
          if (crash) {
            messages.push({ opId: call.opId, attempt: call.attempt });
            return;
          }
          const current = store.ops.get(call.opId)!;
          if (current.version === operation.version) {
            store.ops.set(call.opId, { ...outcome.operation, version: operation.version + 1 });
            if (call.answer.kind === 'accepted') accepted.add(call.opId);
            log.push({ kind: 'answer', opId: call.opId, attempt: call.attempt, answer: call.answer });
            return;
          }
          operation = current;
        }
      });
    });

    // An apply consumer reads (token + operation), or writes what it decided on what it read.
    deliveries.forEach((delivery, d) => {
      moves.push(() => {
        if (!delivery.arrived) {
          // Arrival at the webhook: the one monotonic clock (one move per step), whatever order the queue then
          // hands the messages to consumers in.
          delivery.arrived = true;
          delivery.change = { ...delivery.change, receivedAt: now().toISOString() };
          return;
        }
        if (delivery.snapshot === null) {
          delivery.snapshot = { token: store.tokens.get(delivery.change.virtualCardId) ?? null, op: store.ops.get(delivery.change.correlationId) ?? null };
          return;
        }
        const { change } = delivery;
        const { token, op } = delivery.snapshot;
        const key = dedupeKey(change);
        const decision = decideCallback(token, op, change);
        const dedupeId = `${change.virtualCardId}|${key}`;
        if (store.dedupe.has(dedupeId)) {
          deliveries.splice(d, 1);
          log.push({ kind: 'callback', change, duplicate: true, event: null });
          return;
        }
        const current = store.tokens.get(change.virtualCardId) ?? null;
        const tokenGuard = token === null ? current === null : current?.version === token.version;
        const opGuard = !(decision.operation && op) || store.ops.get(op.operationId)?.version === op.version;
        if (!tokenGuard || !opGuard) {
          delivery.snapshot = null; // CONFLICT: read again and decide again
          return;
        }
        store.dedupe.add(dedupeId);
        const events = store.events.get(change.virtualCardId) ?? [];
        events.push({ key, event: decision.change.event, change, withToken: decision.change.token !== null });
        store.events.set(change.virtualCardId, events);
        if (decision.change.token) store.tokens.set(change.virtualCardId, { ...decision.change.token, version: (token?.version ?? 0) + 1 });
        if (decision.operation && op) store.ops.set(op.operationId, { ...decision.operation, version: op.version + 1 });
        log.push({ kind: 'callback', change, duplicate: false, event: decision.change.event });
        // A consumer crash after the write, before the SQS delete (1 in 16): the message comes back.
        if ((nextChoice() & 15) === 0) delivery.snapshot = null;
        else deliveries.splice(d, 1);
      });
    });

    if (moves.length === 0) break;
    const before = statusesBefore();
    moves[nextChoice() % moves.length]!();
    checkStep(store, before, accepted, violations);
  }
  if (steps >= MAX_STEPS) violations.push(`did not drain within ${MAX_STEPS} steps`);
  return { store, log, violations, steps, initialVersions };
}

/** I3, I4, I5 after every step. */
function checkStep(store: Store, before: Map<string, { status: OpStatus; failure: string }>, accepted: Set<string>, violations: string[]): void {
  for (const op of store.ops.values()) {
    const prev = before.get(op.operationId);
    if (prev) {
      if (STATUS_RANK[op.status] < STATUS_RANK[prev.status]) violations.push(`I3: ${op.operationId} moved back ${prev.status} → ${op.status}`);
      if (isFinalStatus(prev.status) && (op.status !== prev.status || JSON.stringify(op.failure) !== prev.failure)) {
        violations.push(`I3: final ${op.operationId} changed ${prev.status} ${prev.failure} → ${op.status} ${JSON.stringify(op.failure)}`);
      }
    }
    const expected = op.expectedTokens.length > 0 ? op.expectedTokens : op.tokens.map((t) => t.virtualCardId);
    if (expected.length > 0 && expected.every((vc) => op.tokens.some((t) => t.virtualCardId === vc)) && !isFinalStatus(op.status)) {
      violations.push(`I4: ${op.operationId} has every expected token reported but is ${op.status}`);
    }
    if (op.status === 'PENDING' && (op.tokens.length > 0 || accepted.has(op.operationId))) {
      violations.push(`I5: ${op.operationId} PENDING after ${op.tokens.length > 0 ? 'a callback' : "D1's 200"}`);
    }
  }
}

// ------------------------------------------------------------------------------------------------ comparison

function verify(scenario: Scenario, run: Run): string[] {
  const violations = [...run.violations];
  const oracle = new LifecycleOracle(MAX_ATTEMPTS);
  scenario.tokens.forEach((spec, i) => {
    if (spec.initial !== 'UNKNOWN')
      oracle.seedToken({ virtualCardId: vcOf(i), issuerCardRefId: cardOf(spec.card), state: spec.initial, lastChangeSource: 'RECONCILIATION' });
  });
  const eventCursor = new Map<string, number>();
  for (const entry of run.log) {
    if (entry.kind === 'request') {
      const spec = scenario.ops[entry.opIndex]!;
      const vc = spec.scope === 'TOKEN' ? vcOf(spec.target) : null;
      const card = spec.scope === 'TOKEN' ? cardOf(scenario.tokens[spec.target]!.card) : cardOf(spec.target);
      const model = oracle.request({ operationId: opIdOf(entry.opIndex), action: spec.action, issuerCardRefId: card, virtualCardId: vc });
      if ((model === 'TOKEN_DELETED') !== entry.rejected)
        violations.push(
          `I6: ${opIdOf(entry.opIndex)} request ${entry.rejected ? 'refused' : 'accepted'}, oracle says ${model === 'TOKEN_DELETED' ? 'TOKEN_DELETED' : 'accept'}`,
        );
      else if (model !== 'TOKEN_DELETED' && JSON.stringify([...model.expected].sort()) !== JSON.stringify([...(entry.expected ?? [])].sort())) {
        violations.push(`I6: ${opIdOf(entry.opIndex)} expected tokens ${JSON.stringify(entry.expected)}, oracle ${JSON.stringify(model.expected)}`);
      }
    } else if (entry.kind === 'answer') {
      oracle.answer(entry.opId, entry.attempt, entry.answer);
    } else {
      const verdict = oracle.callback(entry.change);
      const what = `${entry.change.correlationId}/${entry.change.virtualCardId}/${entry.change.action}${entry.change.errorCode !== null ? `/${entry.change.errorCode}` : ''}`;
      if (verdict.duplicate !== entry.duplicate) {
        violations.push(`I1: ${what} store says ${entry.duplicate ? 'DUPLICATE' : 'new'}, oracle says ${verdict.duplicate ? 'duplicate' : 'new'}`);
        continue;
      }
      if (verdict.duplicate || !entry.event) continue;
      const vc = entry.change.virtualCardId;
      const n = eventCursor.get(vc) ?? 0;
      eventCursor.set(vc, n + 1);
      const got = { outcome: entry.event.outcome, stateAfter: entry.event.stateAfter, source: entry.event.source, operationId: entry.event.operationId };
      const want = { outcome: verdict.outcome, stateAfter: verdict.stateAfter, source: verdict.source, operationId: verdict.operationId };
      if (JSON.stringify(got) !== JSON.stringify(want))
        violations.push(`I2: event ${n} of ${vc} (${what}) is ${JSON.stringify(got)}, oracle ${JSON.stringify(want)}`);
    }
  }

  // I1: one event per distinct callback that reached the store, per token.
  const delivered = new Map<string, Set<string>>();
  for (const entry of run.log) {
    if (entry.kind !== 'callback') continue;
    const set = delivered.get(entry.change.virtualCardId) ?? new Set<string>();
    set.add(identityOf(entry.change));
    delivered.set(entry.change.virtualCardId, set);
  }
  for (const [vc, ids] of delivered) {
    const events = run.store.events.get(vc) ?? [];
    const recorded = events.map((e) => identityOf(e.change));
    if (recorded.length !== new Set(recorded).size) violations.push(`I1: ${vc} has a callback recorded twice`);
    if (recorded.length !== ids.size || recorded.some((id) => !ids.has(id)))
      violations.push(`I1: ${vc} recorded ${recorded.length} events for ${ids.size} distinct callbacks`);
  }

  // I2 (final token fields) and I8 (versions).
  scenario.tokens.forEach((_, i) => {
    const vc = vcOf(i);
    const got = run.store.tokens.get(vc);
    const want = oracle.tokens.get(vc);
    if (!got || !want) {
      if (!!got !== !!want) violations.push(`I2: ${vc} ${got ? 'exists' : 'is unknown'} in the store, ${want ? 'exists' : 'is unknown'} in the oracle`);
      return;
    }
    const pick = (t: { state: string; renewals: number; lastAction: string | null; lastChangeSource: string | null; lastOperationId: string | null }) =>
      JSON.stringify({
        state: t.state,
        renewals: t.renewals,
        lastAction: t.lastAction,
        lastChangeSource: t.lastChangeSource,
        lastOperationId: t.lastOperationId,
      });
    if (pick(got) !== pick(want)) violations.push(`I2: ${vc} is ${pick(got)}, oracle ${pick(want)}`);
    const bumps = (run.store.events.get(vc) ?? []).filter((e) => e.withToken).length;
    if (got.version !== (run.initialVersions.get(vc) ?? 0) + bumps) violations.push(`I8: ${vc} version ${got.version} after ${bumps} recorded events`);
  });

  // I9 rule 5, arrival order: replaying each token's recorded callbacks sorted by receivedAt (arrival) gives the
  // same final token, for tokens whose history has no callback of ours overtaken / overtaking (those follow
  // creation order, not arrival).
  scenario.tokens.forEach((spec, i) => {
    const vc = vcOf(i);
    const events = run.store.events.get(vc) ?? [];
    const swapped = (pred: (a: (typeof events)[number], b: (typeof events)[number]) => boolean) =>
      events.some((a, x) => events.some((b, y) => y > x && b.change.receivedAt < a.change.receivedAt && pred(a, b)));
    if (swapped((a, b) => a.event.operationId !== null || b.event.operationId !== null)) return;
    if (swapped((a, b) => a.change.action === 'RENEW' || b.change.action === 'RENEW')) stats.renewSwaps++;
    // The one deviation: DELETED is terminal whatever the order, so around a swapped DELETE only the state is
    // arrival-ordered — a RENEW applied before an earlier-arrived DELETE has counted, one overtaken by a DELETE is
    // IGNORED, and of two swapped DELETEs the first applied stays the last action.
    const isDelete = (e: (typeof events)[number]) => e.change.action === 'DELETE' || e.change.action === 'DELETE_FROM_APP';
    const deleteSwap = swapped((a, b) => isDelete(a) || isDelete(b));
    if (deleteSwap) stats.deleteSwaps++;
    const arrival = new LifecycleOracle(MAX_ATTEMPTS);
    if (spec.initial !== 'UNKNOWN')
      arrival.seedToken({ virtualCardId: vc, issuerCardRefId: cardOf(spec.card), state: spec.initial, lastChangeSource: 'RECONCILIATION' });
    for (const entry of run.log) {
      if (entry.kind !== 'request' || entry.rejected) continue;
      const s = scenario.ops[entry.opIndex]!;
      arrival.request({
        operationId: opIdOf(entry.opIndex),
        action: s.action,
        issuerCardRefId: s.scope === 'TOKEN' ? cardOf(scenario.tokens[s.target]!.card) : cardOf(s.target),
        virtualCardId: s.scope === 'TOKEN' ? vcOf(s.target) : null,
      });
    }
    for (const e of [...events].sort((a, b) => (a.change.receivedAt < b.change.receivedAt ? -1 : a.change.receivedAt > b.change.receivedAt ? 1 : 0)))
      arrival.callback(e.change);
    const pick = (
      t: { state: string; renewals: number; lastAction: string | null; lastChangeSource: string | null; lastOperationId: string | null } | undefined,
    ) =>
      t
        ? JSON.stringify(
            deleteSwap
              ? { state: t.state }
              : { state: t.state, renewals: t.renewals, lastAction: t.lastAction, lastChangeSource: t.lastChangeSource, lastOperationId: t.lastOperationId },
          )
        : 'unknown';
    const got = pick(run.store.tokens.get(vc));
    const want = pick(arrival.tokens.get(vc));
    if (got !== want) violations.push(`I9: ${vc} is ${got}; its callbacks in arrival (receivedAt) order give ${want}`);
  });

  // I5 (drained) and I6 (operations).
  for (const want of oracle.ops.values()) {
    const got = run.store.ops.get(want.operationId);
    if (!got) {
      violations.push(`I6: ${want.operationId} missing from the store`);
      continue;
    }
    if (got.status === 'PENDING') violations.push(`I5: ${got.operationId} still PENDING once everything drained`);
    const norm = (tokens: Array<{ virtualCardId: string; outcome: string; errorCode?: number | undefined }>) =>
      JSON.stringify(tokens.map((t) => [t.virtualCardId, t.outcome, t.errorCode ?? null]));
    if (got.status !== want.status || JSON.stringify(got.failure) !== JSON.stringify(want.failure) || norm(got.tokens) !== norm(want.tokens)) {
      violations.push(
        `I6: ${got.operationId} is ${got.status} ${JSON.stringify(got.failure)} ${norm(got.tokens)}, oracle ${want.status} ${JSON.stringify(want.failure)} ${norm(want.tokens)}`,
      );
    }
  }
  return violations;
}

function describeRun(scenario: Scenario, run: Run): string {
  const answer = (a: D1Answer) => (a.kind === 'http-error' ? `${a.status}${a.responseCode ? `/${a.responseCode}` : ''}` : a.kind);
  return [
    ...scenario.tokens.map((t, i) => `${vcOf(i)} on ${cardOf(t.card)} initially ${t.initial}`),
    ...scenario.ops.map(
      (o, i) =>
        `${opIdOf(i)} ${o.action} ${o.scope === 'TOKEN' ? vcOf(o.target) : cardOf(o.target)} answers=${o.answers.map(answer).join(',')}${o.processesOnTimeout ? ' (processes on timeout)' : ''} D1 reports ${o.targets
          .map(
            (t) => `${vcOf(t.token)}${t.failed ? ':221' : ''}${t.dupes ? `x${t.dupes + 1}` : ''}${t.secondOutcome ? '+2nd' : ''}${t.dropped ? ':dropped' : ''}`,
          )
          .join(' ')}`,
    ),
    ...scenario.externals.map(
      (e) => `ext-${e.correlation} ${e.action} ${vcOf(e.token)}${e.errorCode ? ' :221' : ''} source=${e.source}${e.dupes ? ` x${e.dupes + 1}` : ''}`,
    ),
    'log:',
    ...run.log.map((l) =>
      l.kind === 'request'
        ? `  request ${opIdOf(l.opIndex)} ${l.rejected ? 'TOKEN_DELETED' : `expects ${JSON.stringify(l.expected)}`}`
        : l.kind === 'answer'
          ? `  answer ${l.opId}#${l.attempt} ${answer(l.answer)}`
          : `  callback ${l.change.correlationId} ${l.change.virtualCardId} ${l.change.action}${l.change.errorCode !== null ? ' 221' : ''} → ${l.duplicate ? 'DUPLICATE' : `${l.event?.outcome} (${l.event?.stateAfter})`}`,
    ),
  ].join('\n');
}

// ------------------------------------------------------------------------------------------------ the property

const stats = {
  runs: 0,
  steps: 0,
  callbacks: 0,
  duplicates: 0,
  conflicts: 0,
  ops: 0,
  final: 0,
  superseded: 0,
  ignored: 0,
  failedCallbacks: 0,
  renewSwaps: 0,
  deleteSwaps: 0,
};

describe('domain chaos: operations, D1 answers, callbacks and external changes, randomly interleaved', () => {
  const started = Date.now();

  afterAll(() => {
    report('domain.chaos.test.ts', {
      seed: SEED,
      replay: `CHAOS_SEED=${SEED}${process.env.CHAOS_FULL ? ' CHAOS_FULL=1' : ''} npx jest test/chaos/domain`,
      scenarios: stats.runs,
      'steps simulated': stats.steps,
      'callbacks recorded': stats.callbacks,
      'duplicate deliveries': stats.duplicates,
      'operations (final / requested)': `${stats.final} / ${stats.ops}`,
      'events SUPERSEDED / IGNORED / FAILED': `${stats.superseded} / ${stats.ignored} / ${stats.failedCallbacks}`,
      'I9 tokens where a RENEW overtook or was overtaken (checked like the rest)': stats.renewSwaps,
      'I9 tokens with a DELETE overtaking or overtaken (only the state compared, see I9)': stats.deleteSwaps,
      duration: `${((Date.now() - started) / 1000).toFixed(1)} s`,
    });
  });

  it(`holds invariants I1–I9 over ${NUM_RUNS} random scenarios (seed ${SEED})`, () => {
    console.log(`[chaos] domain: seed ${SEED}, ${NUM_RUNS} runs`);
    fc.assert(
      fc.property(scenarioArb(), (scenario) => {
        const run = simulate(scenario);
        const violations = verify(scenario, run);
        if (violations.length > 0) throw new Error(`${violations.join('\n')}\n--- scenario ---\n${describeRun(scenario, run)}`);
        stats.runs++;
        stats.steps += run.steps;
        for (const entry of run.log) {
          if (entry.kind !== 'callback') continue;
          if (entry.duplicate) stats.duplicates++;
          else {
            stats.callbacks++;
            if (entry.event?.outcome === 'SUPERSEDED') stats.superseded++;
            if (entry.event?.outcome === 'IGNORED') stats.ignored++;
            if (entry.event?.outcome === 'FAILED') stats.failedCallbacks++;
          }
        }
        stats.ops += run.store.ops.size;
        stats.final += [...run.store.ops.values()].filter((o) => isFinalStatus(o.status)).length;
      }),
      { seed: SEED, numRuns: NUM_RUNS },
    );
  });

  it('the harness sees what it must: a stale decision is retaken, a redelivery is a duplicate', () => {
    // Hand-made: two consumers read the same unknown token, both decide; the second write must CONFLICT, re-read
    // and be recorded on top (no lost update), and a crash-redelivery must end as DUPLICATE.
    const scenario: Scenario = {
      cards: 1,
      tokens: [{ card: 0, initial: 'ACTIVE' }],
      ops: [
        {
          scope: 'TOKEN',
          target: 0,
          action: 'SUSPEND',
          answers: [{ kind: 'accepted' }, { kind: 'accepted' }, { kind: 'accepted' }],
          processesOnTimeout: false,
          targets: [{ token: 0, failed: false, dupes: 1, secondOutcome: false, dropped: false }],
        },
      ],
      externals: [{ token: 0, correlation: 0, action: 'RENEW', errorCode: null, source: 'WALLET', dupes: 0 }],
      choices: [],
    };
    const run = simulate(scenario);
    expect(verify(scenario, run)).toEqual([]);
    expect(run.store.ops.get('op-1')?.status).toBe('SUCCEEDED');
    expect(run.store.tokens.get('vc-1')).toMatchObject({ state: 'SUSPENDED', renewals: 1 });
    expect(run.log.filter((l) => l.kind === 'callback' && l.duplicate)).toHaveLength(1);
  });
});
