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
  writes: ChangeRecord[];
}

function scriptedStore(answers: RecordResult[]): ScriptedStore {
  const fake: ScriptedStore = {
    reads: 0,
    writes: [],
    store: {
      getTokenAndOperation: async () => {
        fake.reads++;
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
