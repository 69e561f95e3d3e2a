import { newOperationId } from '../../lambdas/domain/operation';
import type { VirtualCardChange } from '../../lambdas/domain/virtual-card-change';
import type { ChangeRecord, RecordResult, TokenStore } from '../../lambdas/ports/token-store';
import { ConcurrentUpdateError, processVirtualCardChange } from '../../lambdas/use-cases/process-virtual-card-change';
import { deepFreeze } from '../support/freeze';

/**
 * The apply use case's retry on a version conflict, on a fake store whose write answers as scripted: each CONFLICT
 * is retaken on fresh reads, and a token that keeps changing is left for redelivery instead of looping. (Under real
 * contention the chaos tests reach the give-up only now and then.)
 */

const CHANGE: VirtualCardChange = deepFreeze({
  correlationId: 'corr-1',
  issuerCardRefId: 'card-1',
  virtualCardId: 'vc-1',
  action: 'ACTIVATE',
  errorCode: null,
  source: 'WALLET',
  walletProviderId: 'APPLE_PAY',
  receivedAt: '2026-03-04T05:06:07.890Z',
});

/** A store that knows no token or operation and answers the writes with `answers`, then RECORDED. */
interface ScriptedStore {
  store: TokenStore;
  reads: number;
  /** The operation id each read asked for (null: the token alone). */
  operationIds: (string | null)[];
  writes: ChangeRecord[];
}

function scriptedStore(answers: RecordResult[]): ScriptedStore {
  const fake: ScriptedStore = {
    reads: 0,
    operationIds: [],
    writes: [],
    store: {
      getTokenAndOperation: async (_virtualCardId, operationId) => {
        fake.reads++;
        fake.operationIds.push(operationId);
        return { token: null, operation: null };
      },
      recordChange: async (record: ChangeRecord) => {
        fake.writes.push(record);
        return answers[fake.writes.length - 1] ?? 'RECORDED';
      },
    } as Partial<TokenStore> as TokenStore,
  };
  return fake;
}

describe('processVirtualCardChange: version conflicts', () => {
  it('a CONFLICT is retaken on fresh reads: recorded on the next attempt, the same dedupe key both times', async () => {
    const fake = scriptedStore(['CONFLICT']);
    const result = await processVirtualCardChange(fake, CHANGE);
    expect(result).toMatchObject({ duplicate: false, operation: null });
    expect(fake.reads).toBe(2);
    expect(fake.writes).toHaveLength(2);
    expect(new Set(fake.writes.map((w) => w.dedupeKey)).size).toBe(1);
  });

  it('a token that keeps changing: 8 attempts, then ConcurrentUpdateError (the message is left for redelivery)', async () => {
    const fake = scriptedStore(Array<RecordResult>(8).fill('CONFLICT'));
    const error = await processVirtualCardChange(fake, CHANGE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrentUpdateError);
    expect(error).toMatchObject({ name: 'ConcurrentUpdateError', message: 'token vc-1 kept changing; left for redelivery' });
    expect({ reads: fake.reads, writes: fake.writes.length }).toEqual({ reads: 8, writes: 8 });
  });

  it('a DUPLICATE ends it at once: nothing retried', async () => {
    const fake = scriptedStore(['DUPLICATE']);
    expect(await processVirtualCardChange(fake, CHANGE)).toEqual({ duplicate: true });
    expect({ reads: fake.reads, writes: fake.writes.length }).toEqual({ reads: 1, writes: 1 });
  });
});

describe('processVirtualCardChange: which operation it reads', () => {
  it('a correlation id that cannot be one of ours (a wallet change) reads the token alone', async () => {
    const fake = scriptedStore([]);
    await processVirtualCardChange(fake, CHANGE);
    expect(fake.operationIds).toEqual([null]);
  });

  it('a correlation id shaped like our operation ids reads that operation with the token', async () => {
    const fake = scriptedStore([]);
    const ours = newOperationId(() => '0b8e4c1a-2f3d-4e5f-9a6b-7c8d9e0f1a2b');
    await processVirtualCardChange(fake, { ...CHANGE, correlationId: ours });
    expect(fake.operationIds).toEqual([ours]);
  });
});
