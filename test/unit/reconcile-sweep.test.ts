import { DomainError } from '../../lambdas/domain/errors';
import { newOperation, type Operation } from '../../lambdas/domain/operation';
import type { Token } from '../../lambdas/domain/token';
import { sweepAndRecord as sweepOn } from '../../lambdas/composition/reconciliation';
import type { CardInfoAnswer } from '../../lambdas/ports/d1-issuer';
import type { ChangeRecord, Page, RecordResult } from '../../lambdas/ports/token-store';
import type { ReconcileDeps } from '../../lambdas/use-cases/reconcile-card';
import { captureOutput } from '../support/capture';
import { storedToken } from '../support/tokens';

/**
 * The scheduled sweep on fakes of its ports: one card failing is counted, logged with what identifies it (card,
 * overdue operations, error name and message) and nothing else, and does not stop the other cards.
 */

const AFTER_MS = 1_000;
const CREATED = new Date('2026-05-01T10:00:00.000Z');
const NOW = new Date(CREATED.getTime() + 10 * AFTER_MS);
const CARDS = ['card-a', 'card-b', 'card-c'] as const;
const vc = (card: string) => `vc-${card}`;
const opId = (card: string) => `op-${card}`;

/** Our side: each card has one ACTIVE token and one overdue SUSPEND still SUBMITTED. D1 already shows it SUSPENDED. */
function world() {
  const tokens = new Map<string, Token>(
    CARDS.map((card) => [vc(card), storedToken({ virtualCardId: vc(card), issuerCardRefId: card, updatedAt: CREATED.toISOString() })]),
  );
  const operations = new Map<string, Operation>(
    CARDS.map((card, i) => {
      const op = newOperation({
        operationId: opId(card),
        action: 'SUSPEND',
        issuerCardRefId: card,
        virtualCardId: vc(card),
        expectedTokens: [vc(card)],
        now: CREATED,
        sequence: i + 1,
      });
      return [op.operationId, { ...op, status: 'SUBMITTED', submitAttempts: 1, version: 1 }];
    }),
  );
  /** Set by a test: makes the next call for that card fail once. */
  const failOnce: { getCardInfo?: { card: string; answer: () => Promise<CardInfoAnswer> }; recordChange?: { card: string; error: Error } } = {};

  const notUsed = () => Promise.reject(new Error('not used by the sweep'));
  const deps: ReconcileDeps = {
    tokens: {
      getToken: notUsed,
      getTokenAndOperation: notUsed,
      history: notUsed,
      recordDevice: notUsed,
      async listCardTokens(issuerCardRefId): Promise<Page<Token>> {
        return { items: [...tokens.values()].filter((t) => t.issuerCardRefId === issuerCardRefId), nextToken: null };
      },
      async recordChange(record: ChangeRecord): Promise<RecordResult> {
        const failure = failOnce.recordChange;
        if (failure && record.token?.issuerCardRefId === failure.card) {
          delete failOnce.recordChange;
          throw failure.error;
        }
        if ((tokens.get(record.virtualCardId)?.version ?? null) !== record.expectedVersion) return 'CONFLICT';
        if (record.token) tokens.set(record.virtualCardId, { ...record.token, version: (record.expectedVersion ?? 0) + 1 });
        return 'RECORDED';
      },
    },
    operations: {
      async listOpen({ issuerCardRefId, createdBefore }) {
        return [...operations.values()].filter(
          (op) =>
            op.status === 'SUBMITTED' &&
            (issuerCardRefId === undefined || op.issuerCardRefId === issuerCardRefId) &&
            (createdBefore === undefined || op.createdAt < createdBefore),
        );
      },
      async save(operation, previous) {
        if (operations.get(operation.operationId)?.version !== previous.version) return 'CONFLICT';
        operations.set(operation.operationId, { ...operation, version: previous.version + 1 });
        return 'SAVED';
      },
    },
    d1: {
      async getCardInfo({ issuerCardRefId }): Promise<CardInfoAnswer> {
        const failure = failOnce.getCardInfo;
        if (failure?.card === issuerCardRefId) {
          delete failOnce.getCardInfo;
          return failure.answer();
        }
        return { kind: 'ok', virtualCards: [{ virtualCardId: vc(issuerCardRefId), status: 'SUSPENDED' }] };
      },
    },
    reconcileAfterMs: AFTER_MS,
    now: () => NOW,
    newId: (() => {
      let n = 0;
      return () => `reconciliation-${++n}`;
    })(),
  };
  return { deps, tokens, operations, failOnce };
}

type LogLine = Record<string, unknown> & { level: string; message: string };
const logLines = (output: string): LogLine[] =>
  output
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);

/** An SDK-like error: besides its name and message it carries attributes the log must not repeat. */
function storeError(): Error {
  return Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
    name: 'ProvisionedThroughputExceededException',
    $metadata: { httpStatusCode: 400 },
    Item: { virtualCardId: vc('card-b'), tokenPan: '4111111111111111' },
  });
}

describe('reconciliation sweep: one card failing', () => {
  it.each([
    {
      failure: 'D1 getCardInfo unavailable',
      arm: (w: ReturnType<typeof world>) => (w.failOnce.getCardInfo = { card: 'card-b', answer: async () => ({ kind: 'unavailable' }) }),
      error: { name: 'DomainError', message: new DomainError('UNAVAILABLE', 'D1 getCardInfo is unavailable').message },
    },
    {
      failure: 'D1 getCardInfo throwing (a broken adapter)',
      arm: (w: ReturnType<typeof world>) => (w.failOnce.getCardInfo = { card: 'card-b', answer: () => Promise.reject(new TypeError('fetch failed')) }),
      error: { name: 'TypeError', message: 'fetch failed' },
    },
    {
      failure: 'the token store failing on the correction',
      arm: (w: ReturnType<typeof world>) => (w.failOnce.recordChange = { card: 'card-b', error: storeError() }),
      error: { name: 'ProvisionedThroughputExceededException', message: 'Rate of requests exceeds the allowed throughput' },
    },
  ])('$failure: counted, logged with the card, its operation and the error; the other cards reconciled', async ({ arm, error }) => {
    const w = world();
    arm(w);
    const sweep = () => sweepOn(w.deps);

    let outcome: Awaited<ReturnType<typeof sweep>> | undefined;
    const output = await captureOutput(async () => {
      outcome = await sweep();
    });

    expect(outcome).toEqual({ cards: 3, failures: 1 });
    for (const card of ['card-a', 'card-c']) {
      expect(w.tokens.get(vc(card))).toMatchObject({ state: 'SUSPENDED', lastChangeSource: 'RECONCILIATION' });
      expect(w.operations.get(opId(card))).toMatchObject({ status: 'SUCCEEDED' });
    }
    expect(w.operations.get(opId('card-b'))).toMatchObject({ status: 'SUBMITTED' });

    const lines = logLines(output);
    const failures = lines.filter((line) => line.message === 'card not reconciled');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ level: 'ERROR', trigger: 'sweep', issuerCardRefId: 'card-b', operationIds: [opId('card-b')] });
    // The error's name and message only: none of its other attributes (an SDK error's item, metadata).
    expect(failures[0]!.error).toEqual(error);
    expect(output).not.toContain('4111111111111111');
    expect(output).not.toContain('tokenPan');
    expect(lines.filter((line) => line.message === 'card reconciled').map((line) => line.issuerCardRefId)).toEqual(['card-a', 'card-c']);

    // It stays overdue and the next sweep reconciles it.
    await expect(sweep()).resolves.toEqual({ cards: 1, failures: 0 });
    expect(w.tokens.get(vc('card-b'))).toMatchObject({ state: 'SUSPENDED' });
    expect(w.operations.get(opId('card-b'))).toMatchObject({ status: 'SUCCEEDED' });
  });

  it('a card with several overdue operations is logged with all of them', async () => {
    const w = world();
    const second = newOperation({
      operationId: 'op-card-b-2',
      action: 'SUSPEND',
      issuerCardRefId: 'card-b',
      expectedTokens: [vc('card-b')],
      now: CREATED,
      sequence: 9,
    });
    w.operations.set(second.operationId, { ...second, status: 'SUBMITTED', submitAttempts: 1, version: 1 });
    w.failOnce.getCardInfo = { card: 'card-b', answer: async () => ({ kind: 'rejected', status: 500 }) };

    let outcome: unknown;
    const output = await captureOutput(async () => {
      outcome = await sweepOn(w.deps);
    });

    expect(outcome).toEqual({ cards: 3, failures: 1 });
    const failure = logLines(output).find((line) => line.message === 'card not reconciled');
    expect(failure).toMatchObject({ issuerCardRefId: 'card-b', error: { name: 'DomainError', message: 'D1 getCardInfo failed (HTTP 500)' } });
    expect(failure?.operationIds).toEqual(expect.arrayContaining([opId('card-b'), 'op-card-b-2']));
    expect(failure?.operationIds).toHaveLength(2);
  });
});
