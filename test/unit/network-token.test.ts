import { applyTokenUpdate, networkTokenView, type NetworkToken, type TokenUpdate } from '../../lambdas/domain/network-token';
import { deepFreeze } from '../support/freeze';

/**
 * Rules 10 and 11 (DESIGN §2) on the pure domain function, and the §3 network-token view. Every input is
 * deep-frozen, so an in-place mutation by the product throws.
 */

const T1 = Date.parse('2026-05-01T10:00:00.000Z');
const T2 = T1 + 1; // one millisecond later: the precision rule 10 compares at
const RECEIVED = '2026-05-02T00:00:00.000Z';

function stored(overrides: Partial<NetworkToken> = {}): NetworkToken {
  return deepFreeze({
    tokenId: 't-1',
    merchantId: 'm-1',
    state: 'ACTIVE',
    tokenLastDigits: '1234',
    tokenExpiryDate: '1228',
    cardLastDigits: '9876',
    cardExpiryDate: '0927',
    cardBin: '453421',
    par: 'PAR-OLD',
    cardArt: { background: 'old' },
    lastUpdateTimestamp: T1,
    tokenPanStored: false,
    updatedAt: '2026-05-01T10:00:05.000Z',
    version: 3,
    ...overrides,
  });
}

function update(overrides: Partial<TokenUpdate> = {}): TokenUpdate {
  return deepFreeze({
    tokenId: 't-1',
    merchantId: 'm-1',
    lastUpdateTimestamp: T2,
    correlationId: 'corr-1',
    receivedAt: RECEIVED,
    ...overrides,
  });
}

/** Every optional field of an update, the token field it lands in, and a value different from `stored()`'s. */
const CARRIED = [
  ['tokenState', 'state', 'SUSPENDED'],
  ['tokenLastDigits', 'tokenLastDigits', '5678'],
  ['tokenExpiryDate', 'tokenExpiryDate', '0130'],
  ['cardLastDigits', 'cardLastDigits', '1111'],
  ['cardExpiryDate', 'cardExpiryDate', '0331'],
  ['cardBin', 'cardBin', '51234567'],
  ['par', 'par', 'PAR-NEW'],
  ['cardArt', 'cardArt', { background: 'new', logo: 'x' }],
] as const satisfies readonly (readonly [keyof TokenUpdate, keyof NetworkToken, unknown])[];

describe('applyTokenUpdate — first update (no stored token)', () => {
  it('creates the token from the update, version 0 (the store increments it), no PAN', () => {
    const u = update({ tokenState: 'ACTIVE', tokenLastDigits: '4321', cardBin: '453421', cardArt: { a: 1 } });
    const d = applyTokenUpdate(null, u);
    expect(d).toEqual({
      outcome: 'APPLIED',
      dropTokenPan: false,
      token: {
        tokenId: 't-1',
        merchantId: 'm-1',
        state: 'ACTIVE',
        tokenLastDigits: '4321',
        tokenExpiryDate: null,
        cardLastDigits: null,
        cardExpiryDate: null,
        cardBin: '453421',
        par: null,
        cardArt: { a: 1 },
        lastUpdateTimestamp: T2,
        tokenPanStored: false,
        updatedAt: RECEIVED,
        version: 0,
      },
    });
  });

  it('a first update without tokenState gives state null (and null for every absent field)', () => {
    const d = applyTokenUpdate(null, update());
    expect(d.outcome).toBe('APPLIED');
    expect(d.token).toMatchObject({
      state: null,
      tokenLastDigits: null,
      tokenExpiryDate: null,
      cardLastDigits: null,
      cardExpiryDate: null,
      cardBin: null,
      par: null,
      cardArt: null,
      tokenPanStored: false,
    });
  });

  it.each(['ACTIVE', 'SUSPENDED', 'DELETED'] as const)('a first update with tokenState %s creates it in that state', (state) => {
    const d = applyTokenUpdate(null, update({ tokenState: state }));
    expect(d).toMatchObject({ outcome: 'APPLIED', dropTokenPan: false, token: { state } });
  });
});

describe('applyTokenUpdate — ordering by lastUpdateTimestamp (rule 10)', () => {
  const everyFieldChanged = Object.fromEntries(CARRIED.map(([field, , value]) => [field, value])) as Partial<TokenUpdate>;

  it.each([
    ['one millisecond older', T1 - 1],
    ['a day older', T1 - 86_400_000],
  ])('an update %s is STALE: token returned unchanged, PAN kept', (_label, ts) => {
    const current = stored({ tokenPanStored: true });
    const d = applyTokenUpdate(current, update({ ...everyFieldChanged, tokenState: 'DELETED', lastUpdateTimestamp: ts }));
    expect(d.outcome).toBe('STALE');
    expect(d.token).toEqual(current);
    expect(d.dropTokenPan).toBe(false);
  });

  it.each([
    ['the same fields', {}],
    ['different fields', everyFieldChanged],
    ['a DELETED state and new last digits', { tokenState: 'DELETED', tokenLastDigits: '0000' } as Partial<TokenUpdate>],
    ['another merchantId and receivedAt', { merchantId: 'm-2', receivedAt: '2027-01-01T00:00:00.000Z' }],
  ])('an update with an equal timestamp is a DUPLICATE even with %s: token unchanged, PAN kept', (_label, fields) => {
    const current = stored({ tokenPanStored: true });
    const d = applyTokenUpdate(current, update({ ...fields, lastUpdateTimestamp: T1 }));
    expect(d.outcome).toBe('DUPLICATE');
    expect(d.token).toEqual(current);
    expect(d.dropTokenPan).toBe(false);
  });

  it('a newer update with every field replaces every field, and stamps timestamp, updatedAt, merchantId', () => {
    const d = applyTokenUpdate(stored(), update({ ...everyFieldChanged, merchantId: 'm-2' }));
    expect(d.outcome).toBe('APPLIED');
    expect(d.token).toEqual({
      tokenId: 't-1',
      merchantId: 'm-2',
      state: 'SUSPENDED',
      tokenLastDigits: '5678',
      tokenExpiryDate: '0130',
      cardLastDigits: '1111',
      cardExpiryDate: '0331',
      cardBin: '51234567',
      par: 'PAR-NEW',
      cardArt: { background: 'new', logo: 'x' },
      lastUpdateTimestamp: T2,
      tokenPanStored: false,
      updatedAt: RECEIVED,
      version: 3, // unchanged here: the store's conditional write increments it
    });
  });

  it('a newer update with no optional field keeps every stored field (only timestamp and updatedAt move)', () => {
    const current = stored({ tokenPanStored: true });
    const d = applyTokenUpdate(current, update());
    expect(d).toEqual({ outcome: 'APPLIED', dropTokenPan: false, token: { ...current, lastUpdateTimestamp: T2, updatedAt: RECEIVED } });
  });

  describe.each(CARRIED)('a newer update carrying only %s', (field, tokenField, value) => {
    it(`replaces ${tokenField} and keeps every other field`, () => {
      const current = stored();
      const d = applyTokenUpdate(current, update({ [field]: value }));
      expect(d.outcome).toBe('APPLIED');
      expect(d.token).toEqual({ ...current, [tokenField]: value, lastUpdateTimestamp: T2, updatedAt: RECEIVED });
    });

    it(`sets ${tokenField} on a token whose ${tokenField} was null`, () => {
      const current = stored({ [tokenField]: null });
      const d = applyTokenUpdate(current, update({ [field]: value }));
      expect(d.token?.[tokenField]).toEqual(value);
    });

    it(`an explicit undefined ${field} keeps the stored value`, () => {
      const current = stored();
      const d = applyTokenUpdate(current, update({ [field]: undefined }));
      expect(d.token?.[tokenField]).toEqual(current[tokenField]);
    });
  });

  it('a newer update carrying no state keeps a null state null', () => {
    const d = applyTokenUpdate(stored({ state: null }), update({ cardBin: '411111' }));
    expect(d.token?.state).toBeNull();
  });

  it('compares at millisecond precision: one ms newer applies', () => {
    expect(applyTokenUpdate(stored(), update({ lastUpdateTimestamp: T1 + 1 })).outcome).toBe('APPLIED');
  });
});

describe('applyTokenUpdate — DELETED is terminal for the state only (rule 10)', () => {
  it.each(['ACTIVE', 'SUSPENDED'] as const)('a newer update with tokenState %s leaves a DELETED token DELETED', (state) => {
    const d = applyTokenUpdate(stored({ state: 'DELETED' }), update({ tokenState: state }));
    expect(d.outcome).toBe('APPLIED');
    expect(d.token?.state).toBe('DELETED');
  });

  it('other fields of a DELETED token still update, absent ones are kept', () => {
    const current = stored({ state: 'DELETED' });
    const d = applyTokenUpdate(current, update({ tokenState: 'ACTIVE', tokenExpiryDate: '0130', cardBin: '51234567', par: 'PAR-NEW', cardArt: { v: 2 } }));
    expect(d.outcome).toBe('APPLIED');
    expect(d.token).toEqual({
      ...current,
      state: 'DELETED',
      tokenExpiryDate: '0130',
      cardBin: '51234567',
      par: 'PAR-NEW',
      cardArt: { v: 2 },
      lastUpdateTimestamp: T2,
      updatedAt: RECEIVED,
    });
  });

  it('a newer DELETED on a DELETED token is applied (timestamp moves), state stays DELETED', () => {
    const d = applyTokenUpdate(stored({ state: 'DELETED' }), update({ tokenState: 'DELETED' }));
    expect(d).toMatchObject({ outcome: 'APPLIED', dropTokenPan: false, token: { state: 'DELETED', lastUpdateTimestamp: T2 } });
  });

  it.each([null, 'ACTIVE', 'SUSPENDED'] as const)('a newer DELETED moves a %s token to DELETED', (from) => {
    const d = applyTokenUpdate(stored({ state: from }), update({ tokenState: 'DELETED' }));
    expect(d.token?.state).toBe('DELETED');
  });
});

describe('applyTokenUpdate — the stored token PAN (rule 11)', () => {
  type Case = [label: string, current: Partial<NetworkToken>, u: Partial<TokenUpdate>, drop: boolean, panStoredAfter: boolean];
  const cases: Case[] = [
    ['tokenLastDigits change with a stored PAN → dropped', { tokenPanStored: true }, { tokenLastDigits: '5678' }, true, false],
    [
      'tokenLastDigits change with a stored PAN and a SUSPENDED state → dropped',
      { tokenPanStored: true },
      { tokenLastDigits: '5678', tokenState: 'SUSPENDED' },
      true,
      false,
    ],
    [
      'tokenLastDigits set on a token whose digits were null, PAN stored → dropped',
      { tokenPanStored: true, tokenLastDigits: null },
      { tokenLastDigits: '5678' },
      true,
      false,
    ],
    ['tokenLastDigits change with a shorter suffix of the old digits → dropped', { tokenPanStored: true }, { tokenLastDigits: '234' }, true, false],
    ['the same tokenLastDigits re-sent → PAN kept', { tokenPanStored: true }, { tokenLastDigits: '1234' }, false, true],
    ['no tokenLastDigits in the update → PAN kept', { tokenPanStored: true }, { cardBin: '51234567', tokenExpiryDate: '0130' }, false, true],
    ['SUSPENDED with a stored PAN → kept', { tokenPanStored: true }, { tokenState: 'SUSPENDED' }, false, true],
    ['ACTIVE with a stored PAN → kept', { tokenPanStored: true, state: 'SUSPENDED' }, { tokenState: 'ACTIVE' }, false, true],
    ['new state DELETED with a stored PAN → dropped', { tokenPanStored: true }, { tokenState: 'DELETED' }, true, false],
    [
      'new state DELETED with the same digits re-sent and a stored PAN → dropped',
      { tokenPanStored: true },
      { tokenState: 'DELETED', tokenLastDigits: '1234' },
      true,
      false,
    ],
    ['digits change without a stored PAN → nothing to drop', { tokenPanStored: false }, { tokenLastDigits: '5678' }, false, false],
    ['DELETED without a stored PAN → nothing to drop', { tokenPanStored: false }, { tokenState: 'DELETED' }, false, false],
    ['an update without digits or state and no PAN → nothing to drop', { tokenPanStored: false }, { par: 'PAR-NEW' }, false, false],
  ];

  it.each(cases)('%s', (_label, current, u, drop, panStoredAfter) => {
    const d = applyTokenUpdate(stored(current), update(u));
    expect(d.outcome).toBe('APPLIED');
    expect(d.dropTokenPan).toBe(drop);
    expect(d.token?.tokenPanStored).toBe(panStoredAfter);
  });

  it('a first update never asks to drop a PAN (there is none)', () => {
    expect(applyTokenUpdate(null, update({ tokenLastDigits: '5678', tokenState: 'DELETED' })).dropTokenPan).toBe(false);
  });

  it.each([
    ['STALE', T1 - 1],
    ['DUPLICATE', T1],
  ])('a %s update with new digits or DELETED never drops the PAN', (outcome, ts) => {
    const d = applyTokenUpdate(stored({ tokenPanStored: true }), update({ lastUpdateTimestamp: ts, tokenLastDigits: '0000', tokenState: 'DELETED' }));
    expect(d).toMatchObject({ outcome, dropTokenPan: false, token: { tokenPanStored: true, tokenLastDigits: '1234', state: 'ACTIVE' } });
  });
});

describe('networkTokenView (DESIGN §3 GET /v1/network-tokens/{tokenId})', () => {
  const token = stored({ lastUpdateTimestamp: Date.parse('2026-05-01T12:34:56.789+02:00'), tokenPanStored: true, version: 7 });
  const view = networkTokenView(token) as Record<string, unknown>;

  it('has exactly the contract fields', () => {
    expect(Object.keys(view).sort()).toEqual(
      [
        'tokenId',
        'merchantId',
        'state',
        'tokenLastDigits',
        'tokenExpiryDate',
        'cardLastDigits',
        'cardExpiryDate',
        'cardBin',
        'par',
        'cardArt',
        'lastUpdateTimestamp',
        'tokenPanStored',
        'updatedAt',
      ].sort(),
    );
  });

  it('answers lastUpdateTimestamp as a UTC ISO instant with milliseconds and Z', () => {
    expect(view.lastUpdateTimestamp).toBe('2026-05-01T10:34:56.789Z');
    expect(view.lastUpdateTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('keeps .000 milliseconds on a whole-second timestamp', () => {
    expect(networkTokenView(stored({ lastUpdateTimestamp: T1 })).lastUpdateTimestamp).toBe('2026-05-01T10:00:00.000Z');
  });

  it('has no version and no sealed / PAN fields', () => {
    expect(view).not.toHaveProperty('version');
    for (const key of Object.keys(view)) expect(key).not.toMatch(/sealed|pan$|tokenPan$|credential/i);
  });

  it('says whether a token PAN is stored', () => {
    expect(view.tokenPanStored).toBe(true);
    expect(networkTokenView(stored({ tokenPanStored: false })).tokenPanStored).toBe(false);
  });

  it('passes stored fields through, null included', () => {
    const v = networkTokenView(stored({ state: null, par: null, cardArt: null }));
    expect(v).toMatchObject({
      tokenId: 't-1',
      merchantId: 'm-1',
      state: null,
      par: null,
      cardArt: null,
      tokenLastDigits: '1234',
      cardBin: '453421',
      updatedAt: token.updatedAt,
    });
  });

  it('does not leak an extra PAN-like property even if one sits on the record', () => {
    const withPan = { ...stored(), tokenPan: '4111111111111234', sealedCredentials: 'abc' } as NetworkToken;
    const v = networkTokenView(withPan) as Record<string, unknown>;
    expect(v).not.toHaveProperty('tokenPan');
    expect(v).not.toHaveProperty('sealedCredentials');
    expect(JSON.stringify(v)).not.toContain('4111111111111234');
  });
});
