/**
 * D1's truth as the simulator keeps it: the issuer side (cards and their tokens with a D1 status) and the merchant
 * side (network tokens). Token PANs are never stored: each is derived from (tokenId, PAN generation) when needed.
 */
import { createHash } from 'node:crypto';
import { luhnValid } from '../../lambdas/domain/card-data';

/** Classic TSH token states (d1-api.md §3.1). */
export type D1TokenStatus = 'DEPLOYMENT_ONGOING' | 'INACTIVE' | 'RESUMED' | 'SUSPENDED' | 'DELETED' | 'ERASED';
export const STATUSES = ['DEPLOYMENT_ONGOING', 'INACTIVE', 'RESUMED', 'SUSPENDED', 'DELETED', 'ERASED'] as const satisfies readonly D1TokenStatus[];
const TERMINAL: readonly D1TokenStatus[] = ['DELETED', 'ERASED'];
export const isTerminal = (status: D1TokenStatus): boolean => TERMINAL.includes(status);
/** State after a successful callback; RENEW and unknown actions leave it alone (DESIGN §2 rule 7). */
export const STATUS_AFTER: Readonly<Record<string, D1TokenStatus>> = {
  ACTIVATE: 'RESUMED',
  RESUME: 'RESUMED',
  SUSPEND: 'SUSPENDED',
  DELETE: 'DELETED',
  DELETE_FROM_APP: 'DELETED',
};

export interface SimToken {
  virtualCardId: string;
  walletProviderId: string;
  status: D1TokenStatus;
  /** Seeded descriptive fields of its device; getCardInfo adds identifiers of its own (deviceInformation). */
  device?: { manufacturer?: string | undefined; model?: string | undefined; deviceName?: string | undefined } | undefined;
}

/**
 * The `deviceInformation` getCardInfo answers for a token: what a phone tells D1, identifiers included — an IMEI, a
 * phone number, a serial number —, all derived from the token id, so that a test can prove our service keeps only
 * manufacturer, model and device name. Seeded values replace the descriptive ones.
 */
export function deviceInformation(token: SimToken): Record<string, string> {
  const digits = BigInt(`0x${createHash('sha256').update(token.virtualCardId).digest('hex').slice(0, 15)}`)
    .toString()
    .padStart(20, '0');
  const apple = token.walletProviderId === 'APPLE_PAY';
  return {
    deviceId: `sim-device-${token.virtualCardId}`,
    deviceType: 'MOBILE_PHONE',
    manufacturer: token.device?.manufacturer ?? (apple ? 'Apple' : 'Google'),
    model: token.device?.model ?? (apple ? 'iPhone 15' : 'Pixel 8'),
    deviceName: token.device?.deviceName ?? 'Simulated phone',
    imei: `35${digits.slice(0, 13)}`,
    msisdn: `+4915${digits.slice(5, 14)}`,
    serialNumber: `SIM${digits.slice(8, 18)}`,
  };
}

/** Merchant-side network token as D1 knows it (the token PAN is derived, never kept). */
export interface SimNetworkToken {
  tokenId: string;
  merchantId: string;
  tokenState: string;
  tokenLastDigits: string;
  tokenExpiryDate: string;
  cardLastDigits?: unknown;
  cardExpiryDate?: unknown;
  cardBin?: unknown;
  par?: unknown;
  cardArt?: unknown;
  /** Bumped whenever tokenLastDigits changes: a new token PAN. */
  panGeneration: number;
  updatedAt: string;
}
export const TOKEN_FIELDS = ['tokenState', 'tokenLastDigits', 'tokenExpiryDate', 'cardLastDigits', 'cardExpiryDate', 'cardBin', 'par', 'cardArt'] as const;
export type TokenFields = Partial<Record<(typeof TOKEN_FIELDS)[number], unknown>>;
export const TOKEN_ID = /^[a-zA-Z0-9_-]{1,128}$/;

/** The token fields of `src`, in the order given (the order a token update carries them in). */
export const tokenFieldsOf = (src: Record<string, unknown>): TokenFields =>
  Object.fromEntries(Object.entries(src).filter(([key]) => (TOKEN_FIELDS as readonly string[]).includes(key)));

export class SimModel {
  readonly cards = new Map<string, Map<string, SimToken>>();
  readonly networkTokens = new Map<string, SimNetworkToken>();
  private lastTimestampMs = 0;

  tokensOf(cardId: string): SimToken[] {
    return [...(this.cards.get(cardId)?.values() ?? [])];
  }

  cardView(id: string): { issuerCardRefId: string; tokens: SimToken[] } {
    return { issuerCardRefId: id, tokens: this.tokensOf(id) };
  }

  /** Creates the card (even with no tokens) and adds or replaces the given tokens. */
  seedCard(cardId: string, tokens: SimToken[]): void {
    if (!this.cards.has(cardId)) this.cards.set(cardId, new Map());
    for (const token of tokens) this.upsertToken(cardId, token);
  }

  /** D1's own view of a successful change. A token first seen with a known action is created, as our service does. */
  applyChange(cardId: string, virtualCardId: string, action: string, walletProviderId: string): void {
    const token = this.cards.get(cardId)?.get(virtualCardId);
    const next = STATUS_AFTER[action] ?? (action === 'RENEW' ? 'RESUMED' : undefined);
    if (!token) {
      if (next) this.upsertToken(cardId, { virtualCardId, walletProviderId, status: next });
      return;
    }
    if (!isTerminal(token.status) && STATUS_AFTER[action]) token.status = STATUS_AFTER[action];
  }

  /** Creates or changes a network token; a new tokenLastDigits starts a new token PAN ending in those digits. */
  upsertNetworkToken(tokenId: string, merchantId: string, fields: TokenFields): SimNetworkToken {
    const now = new Date().toISOString();
    let token = this.networkTokens.get(tokenId);
    if (!token) {
      token = {
        tokenId,
        merchantId,
        tokenState: 'ACTIVE',
        tokenLastDigits: tokenPan(tokenId, 0).slice(-4),
        tokenExpiryDate: defaultExpiry(),
        panGeneration: 0,
        updatedAt: now,
      };
      this.networkTokens.set(tokenId, token);
    } else if (fields.tokenLastDigits !== undefined && fields.tokenLastDigits !== token.tokenLastDigits) {
      token.panGeneration += 1;
    }
    Object.assign(token, fields);
    token.updatedAt = now;
    return token;
  }

  /** Strictly increasing ISO instants, so two updates sent within one millisecond still have an order. */
  nextTimestamp(): string {
    this.lastTimestampMs = Math.max(Date.now(), this.lastTimestampMs + 1);
    return new Date(this.lastTimestampMs).toISOString();
  }

  /** Forgets cards and network tokens; timestamps keep increasing across resets. */
  reset(): void {
    this.cards.clear();
    this.networkTokens.clear();
  }

  private upsertToken(cardId: string, token: SimToken): void {
    let tokens = this.cards.get(cardId);
    if (!tokens) this.cards.set(cardId, (tokens = new Map()));
    tokens.set(token.virtualCardId, token);
  }
}

/**
 * A 16-digit, Luhn-valid token PAN, the same for the same (tokenId, generation), ending in `lastDigits` when given
 * (the digit just before them is chosen to make the Luhn sum work). Without `lastDigits` the last digit is the
 * ordinary check digit, and `tokenPan(id, g, tokenPan(id, g).slice(-4))` is that same PAN.
 */
export function tokenPan(tokenId: string, generation: number, lastDigits?: string): string {
  const seed = createHash('sha256').update(`${tokenId}:${generation}`).digest();
  const digits = ['4', ...Array.from(seed.subarray(0, 15), (b) => String(b % 10))];
  const suffix = lastDigits ?? '';
  digits.splice(16 - suffix.length, suffix.length, ...suffix);
  const free = 15 - suffix.length; // the check digit, or the one before the fixed suffix
  for (let d = 0; d <= 9; d++) {
    digits[free] = String(d);
    if (luhnValid(digits.join(''))) break;
  }
  return digits.join('');
}

/** MMYY three years from now. */
function defaultExpiry(): string {
  const now = new Date();
  return `${String(now.getUTCMonth() + 1).padStart(2, '0')}${String((now.getUTCFullYear() + 3) % 100).padStart(2, '0')}`;
}
