/**
 * The public response bodies (DESIGN §3) as the integration tests read them. Written from the design, not imported
 * from lambdas/, on purpose: a change to a product type must not silently change what the tests expect. One copy
 * here so every test file reads the same contract; the tests still pin exact keys and values at run time.
 */

/** `GET /v1/tokens/{virtualCardId}` (and each item of a card listing). */
export interface Token {
  virtualCardId: string;
  issuerCardRefId: string;
  walletProviderId: string | null;
  tokenStorageId: string | null;
  walletCardRefId: string | null;
  device: { manufacturer: string | null; model: string | null; deviceName: string | null } | null;
  state: string;
  lastAction: string | null;
  lastChangeSource: string | null;
  lastOperationId: string | null;
  renewals: number;
  lastRenewedAt: string | null;
  updatedAt: string;
}

/** One event of `GET /v1/tokens/{virtualCardId}/history`. */
export interface HistoryEvent {
  at: string;
  action: string;
  source: string;
  correlationId: string;
  operationId: string | null;
  requestedBy: string | null;
  errorCode: number | null;
  outcome: string;
  stateAfter: string | null;
}

/** `GET /v1/tokens/{virtualCardId}/history`. */
export interface HistoryPage {
  virtualCardId: string;
  events: HistoryEvent[];
  nextToken: string | null;
}

/** `GET /v1/cards/{issuerCardRefId}/tokens`. */
export interface CardPage {
  issuerCardRefId: string;
  tokens: Token[];
  nextToken: string | null;
}

/** One token's outcome inside an LCM operation. */
export interface TokenOutcome {
  virtualCardId: string;
  outcome: string;
  errorCode?: number;
  at: string;
}

/** `POST /v1/lcm-operations` (202) and `GET /v1/lcm-operations/{operationId}`. */
export interface Operation {
  operationId: string;
  correlationId: string;
  action: string;
  scope: string;
  issuerCardRefId: string;
  virtualCardId: string | null;
  status: string;
  submitAttempts: number;
  failure: { reason: string; responseCode?: number; errorCode?: number } | null;
  tokens: TokenOutcome[];
  requestedBy: string | null;
  jobId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A bulk job (DESIGN §9). */
export interface Job {
  jobId: string;
  action: string;
  reason: string | null;
  status: 'PENDING' | 'RUNNING' | 'COMPLETED' | 'CANCELLED';
  counts: { cards: number; started: number; SUCCEEDED: number; PARTIALLY_FAILED: number; FAILED: number; inFlight: number };
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
  updatedAt: string;
}

/** `GET /v1/lcm-jobs/{jobId}/cards`. */
export interface JobCardsPage {
  cards: { issuerCardRefId: string; operationId: string | null; status: string }[];
  nextToken: string | null;
}

/** `GET /v1/network-tokens/{tokenId}`. */
export interface NetworkTokenView {
  tokenId: string;
  merchantId: string;
  state: string | null;
  tokenLastDigits: string | null;
  tokenExpiryDate: string | null;
  cardLastDigits: string | null;
  cardExpiryDate: string | null;
  cardBin: string | null;
  par: string | null;
  cardArt: Record<string, unknown> | null;
  lastUpdateTimestamp: string;
  tokenPanStored: boolean;
  updatedAt: string;
}

/** Every 4xx/5xx answer of ours. */
export interface ErrorBody {
  error: { code: string; message: string; fields?: { path: string; message: string }[] };
}
