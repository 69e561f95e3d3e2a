/** The issuer-side token (a D1 "virtual card") as we track it. */

export const TOKEN_STATES = ['INACTIVE', 'ACTIVE', 'SUSPENDED', 'DELETED'] as const;
export type TokenState = (typeof TOKEN_STATES)[number];

export const CHANGE_SOURCES = ['ISSUER', 'WALLET', 'TSP', 'RECONCILIATION', 'UNKNOWN'] as const;
export type ChangeSource = (typeof CHANGE_SOURCES)[number];

/**
 * The device a token lives on, as D1's `getCardInfo` describes it: only these three descriptive strings, each at
 * most DEVICE_FIELD_MAX characters. Identifiers (IMEI, serial number, phone number…) are never kept.
 */
export interface TokenDevice {
  manufacturer: string | null;
  model: string | null;
  deviceName: string | null;
}

export const DEVICE_FIELDS = ['manufacturer', 'model', 'deviceName'] as const satisfies readonly (keyof TokenDevice)[];
export const DEVICE_FIELD_MAX = 64;

/** A descriptive device string as we keep it: trimmed, control characters dropped, at most 64 characters; else null. */
function deviceText(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const text = Array.from(value.replace(/[\u0000-\u001f\u007f]/g, '').trim())
    .slice(0, DEVICE_FIELD_MAX)
    .join('')
    .trim();
  return text === '' ? null : text;
}

/**
 * The device of D1's `deviceInformation`, reduced to manufacturer, model and device name. Everything else it carries
 * (IMEI, MSISDN, serial number, device id…) is dropped here, before anything is stored or logged. Null when none of
 * the three is a usable string.
 */
export function deviceFrom(deviceInformation: unknown): TokenDevice | null {
  if (typeof deviceInformation !== 'object' || deviceInformation === null || Array.isArray(deviceInformation)) return null;
  const source = deviceInformation as Record<string, unknown>;
  const device: TokenDevice = {
    manufacturer: deviceText(source.manufacturer),
    model: deviceText(source.model),
    deviceName: deviceText(source.deviceName),
  };
  return DEVICE_FIELDS.some((field) => device[field] !== null) ? device : null;
}

export const sameDevice = (a: TokenDevice | null, b: TokenDevice | null): boolean =>
  a === b || (a !== null && b !== null && DEVICE_FIELDS.every((field) => a[field] === b[field]));

export interface Token {
  virtualCardId: string;
  issuerCardRefId: string;
  walletProviderId: string | null;
  /** The secure element or wallet instance holding the token, from the last applied callback that carried it. */
  tokenStorageId: string | null;
  /** The wallet's card id (Apple Pay: FPANID), from the last applied callback that carried it. */
  walletCardRefId: string | null;
  /** From D1 `getCardInfo` (reconciliation): manufacturer, model and name only. */
  device: TokenDevice | null;
  state: TokenState;
  /** The last *applied* callback (RENEW counts; failed, superseded, ignored and duplicate ones do not). */
  lastAction: string | null;
  lastChangeSource: ChangeSource | null;
  lastOperationId: string | null;
  renewals: number;
  lastRenewedAt: string | null;
  updatedAt: string;
  /**
   * Rule 5: creation order of the operation of ours whose change was applied last, null when the last applied
   * change was external. An older operation's late success is SUPERSEDED only against this.
   */
  lastOperationOrder: string | null;
  /**
   * Rule 5, arrival order: when the change that set the current state arrived (its receivedAt). A RENEW sets no
   * state and leaves it alone, so an external change overtaken in the queue only by RENEWs still applies. Null
   * when no change has set the state yet (a token first seen through RENEW).
   */
  lastStateChangeAt: string | null;
  /** Bumped by every write to the token (one per recorded event): optimistic concurrency and history order. */
  version: number;
}

/** The later of two ISO instants (both `toISOString()` UTC, so they order as strings); `b` may be absent. */
export const latestInstant = (a: string, b: string | null): string => (b !== null && b > a ? b : a);

/** The public view (DESIGN §3 Token): bookkeeping fields stay inside. */
export function tokenView(token: Token): Omit<Token, 'lastOperationOrder' | 'lastStateChangeAt' | 'version'> {
  const { lastOperationOrder: _order, lastStateChangeAt: _stateAt, version: _version, ...view } = token;
  return view;
}
