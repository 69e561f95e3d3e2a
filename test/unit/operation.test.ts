import {
  isFinal,
  isTransient,
  mayBeOurOperation,
  newOperation,
  newOperationId,
  operationView,
  recordCallbackOutcome,
  recordSubmission,
  retryDelaySeconds,
  shouldSubmit,
  type D1Answer,
  type LcmAction,
  type Operation,
  type OperationStatus,
  type OperationTokenOutcome,
} from '../../lambdas/domain/operation';
import { deepFreeze } from '../support/freeze';

/**
 * Pure domain of an LCM operation (DESIGN §2 rules 3, 8, 9; §3 "Operation"; §4 retry policy). No I/O.
 * Every input is deep-frozen, so an in-place mutation by the product throws.
 */

const CREATED = new Date('2026-02-01T10:00:00.000Z');
const LATER = new Date('2026-02-01T10:00:05.000Z');
const AT1 = '2026-02-01T10:00:10.000Z';
const AT2 = '2026-02-01T10:00:20.000Z';
const AT3 = '2026-02-01T10:00:30.000Z';
const AT4 = '2026-02-01T10:00:40.000Z';

function tokenOp(overrides: Partial<Operation> = {}, action: LcmAction = 'SUSPEND'): Operation {
  const base = newOperation({
    operationId: 'op-1',
    action,
    issuerCardRefId: 'card-1',
    virtualCardId: 'vc-1',
    reason: 'lost phone',
    expectedTokens: ['vc-1'],
    now: CREATED,
  });
  return deepFreeze({ ...base, ...overrides });
}

function cardOp(expectedTokens: string[], overrides: Partial<Operation> = {}): Operation {
  const base = newOperation({ operationId: 'op-card', action: 'SUSPEND', issuerCardRefId: 'card-1', expectedTokens, now: CREATED });
  return deepFreeze({ ...base, ...overrides });
}

const ok = (virtualCardId: string, at = AT1): OperationTokenOutcome => deepFreeze({ virtualCardId, outcome: 'SUCCEEDED', at });
const superseded = (virtualCardId: string, at = AT1): OperationTokenOutcome => deepFreeze({ virtualCardId, outcome: 'SUPERSEDED', at });
const failed = (virtualCardId: string, errorCode?: number, at = AT1): OperationTokenOutcome =>
  deepFreeze({ virtualCardId, outcome: 'FAILED', ...(errorCode !== undefined ? { errorCode } : {}), at });

/** Applies outcomes in order, asserting each is accepted. */
function report(op: Operation, ...outcomes: OperationTokenOutcome[]): Operation {
  let current = op;
  for (const outcome of outcomes) {
    const result = recordCallbackOutcome(current, outcome);
    expect(result.accepted).toBe(true);
    current = deepFreeze(result.operation);
  }
  return current;
}

const http = (status: number, responseCode?: number): D1Answer =>
  deepFreeze({ kind: 'http-error', status, ...(responseCode !== undefined ? { responseCode } : {}) });

// ---------------------------------------------------------------------------------------------------------

describe('newOperation', () => {
  it('TOKEN scope: PENDING, no attempts, correlationId = operationId, order sorts by creation', () => {
    const op = tokenOp();
    expect(op).toMatchObject({
      operationId: 'op-1',
      correlationId: 'op-1',
      scope: 'TOKEN',
      virtualCardId: 'vc-1',
      status: 'PENDING',
      submitAttempts: 0,
      failure: null,
      tokens: [],
      expectedTokens: ['vc-1'],
      createdAt: CREATED.toISOString(),
      updatedAt: CREATED.toISOString(),
      version: 0,
    });
    const later = newOperation({
      operationId: 'op-0',
      action: 'RESUME',
      issuerCardRefId: 'card-1',
      virtualCardId: 'vc-1',
      expectedTokens: ['vc-1'],
      now: LATER,
    });
    expect(later.order > op.order).toBe(true);
  });

  it('CARD scope when virtualCardId is absent (virtualCardId null)', () => {
    const op = cardOp(['a', 'b']);
    expect(op.scope).toBe('CARD');
    expect(op.virtualCardId).toBeNull();
    expect(op.reason).toBeNull();
  });

  it('rule 9: a new operation gets its own correlation id', () => {
    const a = newOperation({ operationId: 'op-a', action: 'SUSPEND', issuerCardRefId: 'card-1', expectedTokens: [], now: CREATED });
    const b = newOperation({ operationId: 'op-b', action: 'SUSPEND', issuerCardRefId: 'card-1', expectedTokens: [], now: CREATED });
    expect(a.correlationId).not.toBe(b.correlationId);
  });
});

describe('operation ids (= our correlation ids) have a shape a foreign correlation id lacks', () => {
  it('a new id is a UUID of version 8 (group 8d1c) built from the random UUID, and it is recognised', () => {
    const id = newOperationId(() => '0b8e4c1a-2f3d-4e5f-9a6b-7c8d9e0f1a2b');
    expect(id).toBe('0b8e4c1a-2f3d-8d1c-9a6b-7c8d9e0f1a2b');
    expect(mayBeOurOperation(id)).toBe(true);
    expect(mayBeOurOperation(newOperationId(() => crypto.randomUUID()))).toBe(true);
  });

  it.each([
    ['a random UUID v4 (D1, wallet or TSP correlation id)', '0b8e4c1a-2f3d-4e5f-9a6b-7c8d9e0f1a2b'],
    ['upper case', '0B8E4C1A-2F3D-8D1C-9A6B-7C8D9E0F1A2B'],
    ['a free-form id', 'corr-1'],
    ['our shape with a suffix', '0b8e4c1a-2f3d-8d1c-9a6b-7c8d9e0f1a2b-x'],
  ])('%s is not ours', (_label, id) => {
    expect(mayBeOurOperation(id)).toBe(false);
  });
});

describe('isTransient (DESIGN §4)', () => {
  const transient: Array<[string, D1Answer]> = [
    ['network error', { kind: 'network-error' }],
    ['timeout', { kind: 'timeout' }],
    ['429', http(429)],
    ['500', http(500)],
    ['502', http(502)],
    ['503', http(503)],
    ['400 responseCode 221', http(400, 221)],
    ['400 responseCode 321', http(400, 321)],
    ['400 responseCode 322', http(400, 322)],
    ['400 responseCode 921', http(400, 921)],
  ];
  const final: Array<[string, D1Answer]> = [
    ['400 responseCode 111', http(400, 111)],
    ['400 responseCode 119', http(400, 119)],
    ['400 responseCode 432', http(400, 432)],
    ['400 without responseCode', http(400)],
    ['401', http(401)],
    ['403', http(403)],
    ['404', http(404)],
    ['409', http(409)],
    ['401 with a "transient" responseCode 221 (only a 400 carries them)', http(401, 221)],
  ];

  it.each(transient)('%s is transient', (_name, answer) => expect(isTransient(answer)).toBe(true));
  it.each(final)('%s is final', (_name, answer) => expect(isTransient(answer)).toBe(false));
  it('accepted is not transient', () => expect(isTransient({ kind: 'accepted' })).toBe(false));
});

describe('retryDelaySeconds (whole seconds for SQS DelaySeconds)', () => {
  it.each([
    // attempt, baseMs, random, expected
    [1, 1000, 0, 1], // 500 ms → 1 s
    [1, 1000, 1, 1], // 1000 ms → 1 s
    [1, 1000, 0.5, 1],
    [1, 200, 0, 1], // sub-second base becomes 1 s
    [1, 200, 1, 1],
    [2, 1000, 1, 2],
    [3, 1000, 1, 4],
    [4, 1000, 1, 8],
    [5, 1000, 1, 16],
    [5, 1000, 0, 8], // equal jitter: half fixed
    [11, 1000, 1, 900], // 1024 s → capped
    [30, 1000, 0, 900],
    [60, 1000, 1, 900],
  ])('attempt %i, base %i ms, random %f → %i s', (attempt, base, random, expected) => {
    expect(retryDelaySeconds(attempt, base, random)).toBe(expected);
  });

  it('grows exponentially and is capped at 900 s', () => {
    const delays = Array.from({ length: 15 }, (_, i) => retryDelaySeconds(i + 1, 1000, 1));
    for (let i = 1; i < delays.length; i++) {
      const previous = delays[i - 1]!;
      const current = delays[i]!;
      expect(current).toBe(Math.min(900, previous * 2));
    }
    expect(Math.max(...delays)).toBe(900);
  });

  it('stays an integer in [1, 900] for any jitter', () => {
    for (const attempt of [1, 2, 3, 7, 10, 11, 20]) {
      for (const base of [1, 200, 999, 1000, 1500, 60_000]) {
        for (const random of [0, 0.123, 0.5, 0.999, 1]) {
          const d = retryDelaySeconds(attempt, base, random);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(1);
          expect(d).toBeLessThanOrEqual(900);
        }
      }
    }
  });
});

describe('shouldSubmit (rule 8)', () => {
  it.each([
    ['PENDING, attempt 1 not made', { status: 'PENDING' as const, submitAttempts: 0 }, 1, 'call'],
    ['PENDING, attempt 3 after 2 made', { status: 'PENDING' as const, submitAttempts: 2 }, 3, 'call'],
    ['PENDING, attempt 1 already made (redelivery)', { status: 'PENDING' as const, submitAttempts: 1 }, 1, 'skip'],
    ['PENDING, an older attempt', { status: 'PENDING' as const, submitAttempts: 3 }, 2, 'skip'],
    ['SUBMITTED', { status: 'SUBMITTED' as const, submitAttempts: 0 }, 1, 'skip'],
    ['SUCCEEDED (a callback arrived first)', { status: 'SUCCEEDED' as const, submitAttempts: 0 }, 1, 'skip'],
    ['PARTIALLY_FAILED', { status: 'PARTIALLY_FAILED' as const, submitAttempts: 1 }, 2, 'skip'],
    ['FAILED', { status: 'FAILED' as const, submitAttempts: 1 }, 2, 'skip'],
  ])('%s → %s', (_name, state, attempt, expected) => {
    expect(shouldSubmit(tokenOp(state), attempt).kind).toBe(expected);
  });

  it('any callback stops further attempts (PENDING → SUBMITTED/final)', () => {
    const afterPartial = report(cardOp(['a', 'b'], { submitAttempts: 1 }), ok('a'));
    expect(afterPartial.status).toBe('SUBMITTED');
    expect(shouldSubmit(afterPartial, 2).kind).toBe('skip');
    const afterFull = report(tokenOp({ submitAttempts: 1 }), ok('vc-1'));
    expect(shouldSubmit(afterFull, 2).kind).toBe('skip');
  });
});

describe('recordSubmission (DESIGN §4, rule 8)', () => {
  const MAX = 4;

  it('accepted → SUBMITTED, submitAttempts = attempt, no retry', () => {
    const out = recordSubmission(tokenOp(), 1, { kind: 'accepted' }, MAX, LATER);
    expect(out.event).toBe('SUBMITTED');
    expect(out.retryAttempt).toBeNull();
    expect(out.operation).toMatchObject({ status: 'SUBMITTED', submitAttempts: 1, failure: null, updatedAt: LATER.toISOString() });
  });

  it('accepted on a later attempt records that attempt', () => {
    const out = recordSubmission(tokenOp({ submitAttempts: 2 }), 3, { kind: 'accepted' }, MAX, LATER);
    expect(out.operation).toMatchObject({ status: 'SUBMITTED', submitAttempts: 3 });
  });

  it.each<[string, D1Answer]>([
    ['network error', { kind: 'network-error' }],
    ['timeout', { kind: 'timeout' }],
    ['429', http(429)],
    ['503', http(503)],
    ['400/221', http(400, 221)],
  ])('transient (%s) below max → RETRY attempt + 1, still PENDING', (_name, answer) => {
    for (let attempt = 1; attempt < MAX; attempt++) {
      const out = recordSubmission(tokenOp({ submitAttempts: attempt - 1 }), attempt, answer, MAX, LATER);
      expect(out.event).toBe('RETRY');
      expect(out.retryAttempt).toBe(attempt + 1);
      expect(out.operation).toMatchObject({ status: 'PENDING', submitAttempts: attempt, failure: null });
    }
  });

  it('transient at max → FAILED D1_UNAVAILABLE (no responseCode when none)', () => {
    const out = recordSubmission(tokenOp({ submitAttempts: 3 }), 4, { kind: 'timeout' }, MAX, LATER);
    expect(out.event).toBe('D1_UNAVAILABLE');
    expect(out.retryAttempt).toBeNull();
    expect(out.operation).toMatchObject({ status: 'FAILED', submitAttempts: 4 });
    expect(out.operation.failure).toEqual({ reason: 'D1_UNAVAILABLE' });
  });

  it('transient at max keeps the responseCode when present', () => {
    const out = recordSubmission(tokenOp({ submitAttempts: 3 }), 4, http(400, 921), MAX, LATER);
    expect(out.operation.failure).toEqual({ reason: 'D1_UNAVAILABLE', responseCode: 921 });
    const out503 = recordSubmission(tokenOp({ submitAttempts: 3 }), 4, http(503), MAX, LATER);
    expect(out503.operation.failure).toEqual({ reason: 'D1_UNAVAILABLE' });
  });

  it('D1_MAX_ATTEMPTS counts calls in total: with max 1 the first transient answer is final', () => {
    const out = recordSubmission(tokenOp(), 1, { kind: 'network-error' }, 1, LATER);
    expect(out.event).toBe('D1_UNAVAILABLE');
    expect(out.retryAttempt).toBeNull();
  });

  it.each<[D1Answer, number | undefined]>([
    [http(400, 111), 111],
    [http(400, 119), 119],
    [http(400, 432), 432],
    [http(400), undefined],
    [http(401), undefined],
    [http(403), undefined],
    [http(404), undefined],
    [http(409), undefined],
  ])('final 4xx %j → FAILED D1_REJECTED (responseCode %s)', (answer, responseCode) => {
    const out = recordSubmission(tokenOp(), 1, answer, MAX, LATER);
    expect(out.event).toBe('D1_REJECTED');
    expect(out.retryAttempt).toBeNull();
    expect(out.operation.status).toBe('FAILED');
    expect(out.operation.submitAttempts).toBe(1);
    expect(out.operation.failure).toEqual(responseCode === undefined ? { reason: 'D1_REJECTED' } : { reason: 'D1_REJECTED', responseCode });
  });

  describe('a late answer on a non-PENDING operation never changes status or failure, but counts the attempt', () => {
    const settled: Array<[string, Operation]> = [
      ['SUBMITTED', tokenOp({ status: 'SUBMITTED', submitAttempts: 1 })],
      ['SUBMITTED by a CARD partial callback', report(cardOp(['a', 'b']), ok('a'))],
      ['SUCCEEDED by callback', report(tokenOp(), ok('vc-1'))],
      ['FAILED CALLBACK_ERROR', report(tokenOp(), failed('vc-1', 221))],
      ['PARTIALLY_FAILED', report(cardOp(['a', 'b']), ok('a'), failed('b', 221))],
      ['FAILED D1_REJECTED', tokenOp({ status: 'FAILED', failure: { reason: 'D1_REJECTED', responseCode: 111 }, submitAttempts: 1 })],
      ['FAILED D1_UNAVAILABLE', tokenOp({ status: 'FAILED', failure: { reason: 'D1_UNAVAILABLE' }, submitAttempts: 4 })],
    ];
    const answers: Array<[string, D1Answer, number]> = [
      ['accepted', { kind: 'accepted' }, 1],
      ['transient below max', { kind: 'timeout' }, 2],
      ['transient at max', http(503), 4],
      ['final 4xx', http(400, 111), 3],
    ];
    const cases = settled.flatMap(([name, op]) => answers.map(([aName, answer, attempt]) => [`${name} + ${aName}`, op, answer, attempt] as const));

    it.each(cases)('%s → LATE_ANSWER', (_name, op, answer, attempt) => {
      const out = recordSubmission(op, attempt, answer, MAX, LATER);
      expect(out.event).toBe('LATE_ANSWER');
      expect(out.retryAttempt).toBeNull();
      expect(out.operation.status).toBe(op.status);
      expect(out.operation.failure).toEqual(op.failure);
      expect(out.operation.tokens).toEqual(op.tokens);
      expect(out.operation.submitAttempts).toBe(Math.max(op.submitAttempts, attempt));
    });
  });
});

describe('recordCallbackOutcome (rules 3, 8)', () => {
  describe('TOKEN scope', () => {
    it('success → SUCCEEDED, outcome recorded, updatedAt = callback time', () => {
      const op = report(tokenOp(), ok('vc-1', AT2));
      expect(op.status).toBe('SUCCEEDED');
      expect(op.failure).toBeNull();
      expect(op.tokens).toEqual([{ virtualCardId: 'vc-1', outcome: 'SUCCEEDED', at: AT2 }]);
      expect(op.updatedAt).toBe(AT2);
    });

    it('SUPERSEDED counts as success → SUCCEEDED', () => {
      const op = report(tokenOp({ status: 'SUBMITTED' }), superseded('vc-1'));
      expect(op.status).toBe('SUCCEEDED');
      expect(op.tokens[0]?.outcome).toBe('SUPERSEDED');
    });

    it('failure with errorCode 221 → FAILED CALLBACK_ERROR errorCode 221', () => {
      const op = report(tokenOp({ status: 'SUBMITTED' }), failed('vc-1', 221));
      expect(op.status).toBe('FAILED');
      expect(op.failure).toEqual({ reason: 'CALLBACK_ERROR', errorCode: 221 });
      expect(op.tokens).toEqual([{ virtualCardId: 'vc-1', outcome: 'FAILED', errorCode: 221, at: AT1 }]);
    });

    it('a callback for another token is recorded but does not complete it', () => {
      const op = report(tokenOp(), ok('vc-other'));
      expect(op.status).toBe('SUBMITTED');
      expect(op.tokens.map((t) => t.virtualCardId)).toEqual(['vc-other']);
    });
  });

  describe('CARD scope, expected [a, b, c]', () => {
    const card = () => cardOp(['a', 'b', 'c']);

    it('partial reports keep SUBMITTED (and move PENDING forward)', () => {
      const one = report(card(), ok('a'));
      expect(one.status).toBe('SUBMITTED');
      const two = report(one, failed('b', 221));
      expect(two.status).toBe('SUBMITTED');
      expect(two.failure).toBeNull();
      const fromSubmitted = report(cardOp(['a', 'b', 'c'], { status: 'SUBMITTED' }), ok('c'));
      expect(fromSubmitted.status).toBe('SUBMITTED');
    });

    it('all success → SUCCEEDED, whatever the arrival order', () => {
      expect(report(card(), ok('c'), ok('a'), ok('b')).status).toBe('SUCCEEDED');
    });

    it('SUPERSEDED counts as success', () => {
      const op = report(card(), ok('a'), superseded('b'), superseded('c'));
      expect(op.status).toBe('SUCCEEDED');
      expect(op.failure).toBeNull();
    });

    it('mixed → PARTIALLY_FAILED with no failure object', () => {
      const op = report(card(), ok('a'), failed('b', 221), superseded('c'));
      expect(op.status).toBe('PARTIALLY_FAILED');
      expect(op.failure).toBeNull();
    });

    it('all failed → FAILED CALLBACK_ERROR with the errorCode', () => {
      const op = report(card(), failed('b', 221), failed('a', 221), failed('c', 221));
      expect(op.status).toBe('FAILED');
      expect(op.failure).toEqual({ reason: 'CALLBACK_ERROR', errorCode: 221 });
    });

    it('all failed with different codes → one of the reported codes (DESIGN does not say which)', () => {
      const op = report(card(), failed('b', 221), failed('a', 222), failed('c', 223));
      expect(op.status).toBe('FAILED');
      expect(op.failure?.reason).toBe('CALLBACK_ERROR');
      expect([221, 222, 223]).toContain(op.failure?.errorCode);
    });

    it('tokens outside the expected set are recorded but do not complete it', () => {
      const op = report(card(), ok('x'), ok('a'), ok('y'), ok('b'));
      expect(op.status).toBe('SUBMITTED');
      expect(op.tokens.map((t) => t.virtualCardId)).toEqual(['x', 'a', 'y', 'b']);
      expect(report(op, ok('c')).status).toBe('SUCCEEDED');
    });

    it('an outside token failing does not make a successful operation partial', () => {
      const op = report(card(), failed('x', 221), ok('a'), ok('b'), ok('c'));
      expect(op.status).toBe('SUCCEEDED');
      expect(op.tokens.find((t) => t.virtualCardId === 'x')).toMatchObject({ outcome: 'FAILED', errorCode: 221 });
    });
  });

  describe('CARD scope with an empty expected set (every known token DELETED, or none known)', () => {
    // Observed: the tokens D1 reported stand in for the expected set, so the FIRST report settles the
    // operation; later reports for other tokens are recorded but the status is final by then.
    it('first success → SUCCEEDED; a later failure for another token is recorded, status stays', () => {
      const first = report(cardOp([]), ok('a'));
      expect(first.status).toBe('SUCCEEDED');
      const second = report(first, failed('b', 221));
      expect(second.status).toBe('SUCCEEDED');
      expect(second.tokens.map((t) => [t.virtualCardId, t.outcome])).toEqual([
        ['a', 'SUCCEEDED'],
        ['b', 'FAILED'],
      ]);
    });

    it('first failure → FAILED CALLBACK_ERROR', () => {
      const op = report(cardOp([]), failed('a', 221));
      expect(op.status).toBe('FAILED');
      expect(op.failure).toEqual({ reason: 'CALLBACK_ERROR', errorCode: 221 });
    });

    it('with no report it stays where D1 left it (SUBMITTED)', () => {
      const out = recordSubmission(cardOp([]), 1, { kind: 'accepted' }, 4, LATER);
      expect(out.operation.status).toBe('SUBMITTED');
    });
  });

  describe('first outcome per (operation, token) wins', () => {
    it.each<[string, OperationTokenOutcome, OperationTokenOutcome]>([
      ['success then failure', ok('vc-1', AT1), failed('vc-1', 221, AT2)],
      ['failure then success', failed('vc-1', 221, AT1), ok('vc-1', AT2)],
      ['failure then another failure', failed('vc-1', 221, AT1), failed('vc-1', 222, AT2)],
      ['superseded then success', superseded('vc-1', AT1), ok('vc-1', AT2)],
      ['success then the same success', ok('vc-1', AT1), ok('vc-1', AT2)],
    ])('%s → second not accepted, operation unchanged', (_name, first, second) => {
      const op = report(tokenOp({ status: 'SUBMITTED' }), first);
      const again = recordCallbackOutcome(op, second);
      expect(again.accepted).toBe(false);
      expect(again.operation).toEqual(op);
    });

    it('CARD scope: a second outcome for a reported token does not change status nor completion', () => {
      const op = report(cardOp(['a', 'b']), failed('a', 221));
      const again = recordCallbackOutcome(op, ok('a', AT2));
      expect(again.accepted).toBe(false);
      expect(again.operation).toEqual(op);
      expect(report(op, failed('b', 221)).status).toBe('FAILED');
    });
  });

  describe('final statuses never change', () => {
    const finals: Array<[string, Operation]> = [
      ['SUCCEEDED', report(cardOp(['a', 'b']), ok('a'), ok('b'))],
      ['PARTIALLY_FAILED', report(cardOp(['a', 'b']), ok('a'), failed('b', 221))],
      ['FAILED CALLBACK_ERROR', report(cardOp(['a', 'b']), failed('a', 221), failed('b', 221))],
      ['FAILED D1_REJECTED', cardOp(['a', 'b'], { status: 'FAILED', failure: { reason: 'D1_REJECTED', responseCode: 111 } })],
      ['FAILED D1_UNAVAILABLE', cardOp(['a', 'b'], { status: 'FAILED', failure: { reason: 'D1_UNAVAILABLE' } })],
    ];
    it.each(finals)('%s: new outcomes are recorded, status and failure stay', (_name, op) => {
      expect(isFinal(op.status)).toBe(true);
      const after = report(op, failed('z', 221, AT3), ok('y', AT4));
      expect(after.status).toBe(op.status);
      expect(after.failure).toEqual(op.failure);
      expect(after.tokens.slice(op.tokens.length).map((t) => t.virtualCardId)).toEqual(['z', 'y']);
    });

    it('FAILED D1_* then the expected token reports success: still FAILED with the D1 reason', () => {
      const op = tokenOp({ status: 'FAILED', failure: { reason: 'D1_UNAVAILABLE' }, submitAttempts: 4 });
      const after = report(op, ok('vc-1'));
      expect(after.status).toBe('FAILED');
      expect(after.failure).toEqual({ reason: 'D1_UNAVAILABLE' });
      expect(after.tokens).toHaveLength(1);
    });
  });

  it('status rank only moves forward along any sequence of outcomes', () => {
    const rank: Record<OperationStatus, number> = { PENDING: 0, SUBMITTED: 1, SUCCEEDED: 2, PARTIALLY_FAILED: 2, FAILED: 2 };
    let op = cardOp(['a', 'b', 'c']);
    for (const outcome of [ok('x'), ok('a'), failed('a', 221), failed('b', 221), ok('c'), ok('y')]) {
      const next = recordCallbackOutcome(op, outcome).operation;
      expect(rank[next.status]).toBeGreaterThanOrEqual(rank[op.status]);
      if (isFinal(op.status)) expect(next.status).toBe(op.status);
      op = deepFreeze(next);
    }
    expect(op.status).toBe('PARTIALLY_FAILED');
  });
});

describe('operationView (DESIGN §3 Operation)', () => {
  const EXACT_KEYS = [
    'operationId',
    'correlationId',
    'action',
    'scope',
    'issuerCardRefId',
    'virtualCardId',
    'status',
    'submitAttempts',
    'failure',
    'tokens',
    'requestedBy',
    'jobId',
    'createdAt',
    'updatedAt',
  ].sort();

  it('shows exactly the contract fields: no order, version, expectedTokens or reason', () => {
    const view = operationView(tokenOp());
    expect(Object.keys(view).sort()).toEqual(EXACT_KEYS);
    for (const internal of ['order', 'version', 'expectedTokens', 'reason']) expect(view).not.toHaveProperty(internal);
    expect(view).toMatchObject({
      operationId: 'op-1',
      correlationId: 'op-1',
      action: 'SUSPEND',
      scope: 'TOKEN',
      virtualCardId: 'vc-1',
      status: 'PENDING',
      submitAttempts: 0,
      failure: null,
      tokens: [],
    });
  });

  it('CARD scope: virtualCardId null (not omitted)', () => {
    const view = operationView(cardOp(['a']));
    expect(view).toHaveProperty('virtualCardId', null);
    expect(view.scope).toBe('CARD');
  });

  it('tokens[].errorCode only on FAILED outcomes; exact token keys', () => {
    const op = report(cardOp(['a', 'b', 'c', 'd']), ok('a'), failed('b', 221), superseded('c'), failed('d'));
    // A SUCCEEDED outcome that (wrongly) carries an errorCode still shows none.
    const sneaky = deepFreeze({ ...op, tokens: [...op.tokens, { virtualCardId: 'e', outcome: 'SUCCEEDED' as const, errorCode: 999, at: AT2 }] });
    const view = operationView(sneaky);
    expect(view.tokens).toEqual([
      { virtualCardId: 'a', outcome: 'SUCCEEDED', at: AT1 },
      { virtualCardId: 'b', outcome: 'FAILED', errorCode: 221, at: AT1 },
      { virtualCardId: 'c', outcome: 'SUPERSEDED', at: AT1 },
      { virtualCardId: 'd', outcome: 'FAILED', at: AT1 },
      { virtualCardId: 'e', outcome: 'SUCCEEDED', at: AT2 },
    ]);
    for (const t of view.tokens) {
      if (t.outcome !== 'FAILED') expect(t).not.toHaveProperty('errorCode');
    }
    expect(view.tokens[1]).toHaveProperty('errorCode', 221);
  });

  it('failure is shown as recorded (D1_REJECTED with responseCode, CALLBACK_ERROR with errorCode)', () => {
    const rejected = recordSubmission(tokenOp(), 1, http(400, 111), 4, LATER).operation;
    expect(operationView(rejected).failure).toEqual({ reason: 'D1_REJECTED', responseCode: 111 });
    const cbFailed = report(tokenOp(), failed('vc-1', 221));
    expect(operationView(cbFailed).failure).toEqual({ reason: 'CALLBACK_ERROR', errorCode: 221 });
  });

  it('is JSON-stable (round-trips without loss)', () => {
    const view = operationView(report(cardOp(['a', 'b']), ok('a'), failed('b', 221)));
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });
});

describe("creation order from the card's sequence", () => {
  it('orders two operations created in the same millisecond by their sequence, not by their random ids', () => {
    const now = new Date('2026-11-24T10:00:00.000Z');
    const first = newOperation({ operationId: 'ffff', action: 'SUSPEND', issuerCardRefId: 'c', virtualCardId: 'v', expectedTokens: ['v'], now, sequence: 9 });
    const second = newOperation({ operationId: '0000', action: 'RESUME', issuerCardRefId: 'c', virtualCardId: 'v', expectedTokens: ['v'], now, sequence: 10 });
    expect(first.order < second.order).toBe(true);
  });

  it('puts every new order after the orders of the former global counter and of the clock, which tokens may still hold', () => {
    const now = new Date('2026-11-24T10:00:00.000Z');
    const fresh = newOperation({ operationId: 'x', action: 'SUSPEND', issuerCardRefId: 'c', virtualCardId: 'v', expectedTokens: ['v'], now, sequence: 1 });
    for (const older of [`#${'9'.repeat(15)}`, `2099-01-01T00:00:00.000Z#zzzz`]) expect(older < fresh.order).toBe(true);
  });
});
