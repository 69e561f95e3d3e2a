/**
 * The token-requestor (merchant / PSP) side: a network token as D1 describes it in `notify-token-update`, and
 * the rules for applying those updates (DESIGN §2 rules 10–12).
 */

export const NETWORK_TOKEN_STATES = ['ACTIVE', 'SUSPENDED', 'DELETED'] as const;
export type NetworkTokenState = (typeof NETWORK_TOKEN_STATES)[number];

/** The fields an update may carry; absent = keep the stored value. */
export const UPDATABLE_FIELDS = ['tokenState', 'tokenLastDigits', 'tokenExpiryDate', 'cardLastDigits', 'cardExpiryDate', 'cardBin', 'par', 'cardArt'] as const;

export interface TokenUpdate {
  tokenId: string;
  merchantId: string;
  /** Milliseconds since the epoch: updates are ordered as instants at millisecond precision. */
  lastUpdateTimestamp: number;
  tokenState?: NetworkTokenState | undefined;
  tokenLastDigits?: string | undefined;
  tokenExpiryDate?: string | undefined;
  cardLastDigits?: string | undefined;
  cardExpiryDate?: string | undefined;
  cardBin?: string | undefined;
  par?: string | undefined;
  cardArt?: Record<string, unknown> | undefined;
  correlationId: string;
  receivedAt: string;
}

export interface NetworkToken {
  tokenId: string;
  merchantId: string;
  /** null until an update carries a state. */
  state: NetworkTokenState | null;
  tokenLastDigits: string | null;
  tokenExpiryDate: string | null;
  cardLastDigits: string | null;
  cardExpiryDate: string | null;
  cardBin: string | null;
  par: string | null;
  cardArt: Record<string, unknown> | null;
  lastUpdateTimestamp: number;
  /** Whether encrypted payment credentials (token PAN + expiry) are stored; the PAN itself lives apart. */
  tokenPanStored: boolean;
  updatedAt: string;
  version: number;
}

/**
 * A network token's data fields (what a consumer of events sees change: `tokenPanStored` included, credentials
 * came or went); the token is these plus its identity (`tokenId`, `merchantId`) and bookkeeping.
 */
export const NETWORK_TOKEN_DATA_FIELDS = [
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
] as const satisfies readonly (keyof NetworkToken)[];

export type TokenUpdateOutcome = 'APPLIED' | 'DUPLICATE' | 'STALE';

export interface TokenUpdateDecision {
  outcome: TokenUpdateOutcome;
  token: NetworkToken | null;
  /** True when the stored token PAN must be removed with this write (rule 11). */
  dropTokenPan: boolean;
}

/**
 * Rule 10: an update older than the stored one is ignored whole (STALE); an equal one is a DUPLICATE; a newer one
 * replaces the fields it carries and keeps the others. DELETED is terminal for the state, not for other fields.
 * Rule 11: the stored token PAN is dropped when `tokenLastDigits` changes, and when the token becomes DELETED.
 */
export function applyTokenUpdate(current: NetworkToken | null, update: TokenUpdate): TokenUpdateDecision {
  if (current && update.lastUpdateTimestamp < current.lastUpdateTimestamp) return { outcome: 'STALE', token: current, dropTokenPan: false };
  if (current && update.lastUpdateTimestamp === current.lastUpdateTimestamp) return { outcome: 'DUPLICATE', token: current, dropTokenPan: false };

  const state = current?.state === 'DELETED' ? 'DELETED' : (update.tokenState ?? current?.state ?? null);
  const tokenLastDigits = update.tokenLastDigits ?? current?.tokenLastDigits ?? null;
  const digitsChanged = current !== null && update.tokenLastDigits !== undefined && update.tokenLastDigits !== current.tokenLastDigits;
  const hadPan = current?.tokenPanStored ?? false;
  const dropTokenPan = hadPan && (digitsChanged || state === 'DELETED');

  const token: NetworkToken = {
    tokenId: update.tokenId,
    merchantId: update.merchantId,
    state,
    tokenLastDigits,
    tokenExpiryDate: update.tokenExpiryDate ?? current?.tokenExpiryDate ?? null,
    cardLastDigits: update.cardLastDigits ?? current?.cardLastDigits ?? null,
    cardExpiryDate: update.cardExpiryDate ?? current?.cardExpiryDate ?? null,
    cardBin: update.cardBin ?? current?.cardBin ?? null,
    par: update.par ?? current?.par ?? null,
    cardArt: update.cardArt ?? current?.cardArt ?? null,
    lastUpdateTimestamp: update.lastUpdateTimestamp,
    tokenPanStored: hadPan && !dropTokenPan,
    updatedAt: update.receivedAt,
    version: current?.version ?? 0,
  };
  return { outcome: 'APPLIED', token, dropTokenPan };
}

/** The public view (DESIGN §3 network token): never the PAN. */
export function networkTokenView(token: NetworkToken) {
  return {
    tokenId: token.tokenId,
    merchantId: token.merchantId,
    state: token.state,
    tokenLastDigits: token.tokenLastDigits,
    tokenExpiryDate: token.tokenExpiryDate,
    cardLastDigits: token.cardLastDigits,
    cardExpiryDate: token.cardExpiryDate,
    cardBin: token.cardBin,
    par: token.par,
    cardArt: token.cardArt,
    lastUpdateTimestamp: new Date(token.lastUpdateTimestamp).toISOString(),
    tokenPanStored: token.tokenPanStored,
    updatedAt: token.updatedAt,
  };
}
