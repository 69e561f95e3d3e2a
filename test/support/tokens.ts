import type { Token } from '../../lambdas/domain/token';
import { deepFreeze } from './freeze';

/**
 * A stored token for the domain's unit tests, frozen: vc-1 of card-1, activated by its wallet at `updatedAt`
 * (default below), with no operation, renewal, wallet ids or device. Each test overrides what it is about.
 */
export function storedToken(overrides: Partial<Token> = {}): Token {
  const at = overrides.updatedAt ?? '2026-02-01T00:00:00.000Z';
  return deepFreeze({
    virtualCardId: 'vc-1',
    issuerCardRefId: 'card-1',
    walletProviderId: 'APPLE_PAY',
    tokenStorageId: null,
    walletCardRefId: null,
    device: null,
    state: 'ACTIVE',
    lastAction: 'ACTIVATE',
    lastChangeSource: 'WALLET',
    lastOperationId: null,
    renewals: 0,
    lastRenewedAt: null,
    updatedAt: at,
    lastOperationOrder: null,
    lastStateChangeAt: at,
    version: 1,
    ...overrides,
  });
}
