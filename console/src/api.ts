/**
 * The console's only way out: the public HTTP API (DESIGN §3, §8, §9). Locally requests go unsigned to this origin;
 * in AWS a signing transport (aws.ts) is installed and requests go, SigV4-signed, to the configured API URL.
 */

export interface AwsConfig {
  mode: 'aws';
  region: string;
  apiUrl: string;
  userPoolId: string;
  userPoolClientId: string;
  cognitoDomain: string;
  identityPoolId: string;
}
export type ConsoleConfig = { mode: 'local' } | AwsConfig;

export interface ApiRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Sends a request and returns the raw response; throws only when nothing came back. */
export type Transport = (request: ApiRequest) => Promise<Response>;

/** The API answered with an error status: the body's `{error:{code,message,fields,details}}` when it had one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Array<{ path: string; message: string }> = [],
    readonly details: unknown = undefined,
  ) {
    super(message);
  }
}

/** No answer at all: offline, the service down, a timeout, or the browser refusing the request. */
export class NetworkError extends Error {}

const TIMEOUT_MS = 15_000;

export function requestUrl(base: string, request: ApiRequest): URL {
  const url = new URL(request.path, base);
  for (const [name, value] of Object.entries(request.query ?? {})) if (value !== undefined && value !== '') url.searchParams.set(name, value);
  return url;
}

/** Local mode: unsigned, same origin. */
export const sameOriginTransport: Transport = (request) =>
  fetch(requestUrl(location.origin, request), {
    method: request.method,
    headers: { accept: 'application/json', ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}), ...request.headers },
    ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });

let transport: Transport = sameOriginTransport;

export function useTransport(next: Transport): void {
  transport = next;
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; fields?: unknown; details?: unknown };
}

export async function call<T>(request: ApiRequest): Promise<{ status: number; body: T }> {
  let response: Response;
  try {
    response = await transport(request);
  } catch (err) {
    throw new NetworkError(err instanceof Error && err.name === 'TimeoutError' ? 'the service did not answer in time' : 'the service could not be reached');
  }
  const textBody = await response.text().catch(() => '');
  let parsed: unknown;
  try {
    parsed = textBody ? JSON.parse(textBody) : undefined;
  } catch {
    // not JSON (a proxy's error page): handled as a body without an error object
  }
  if (!response.ok) {
    const error = (parsed as ErrorBody | undefined)?.error;
    const fields = Array.isArray(error?.fields) ? (error.fields as Array<{ path: string; message: string }>) : [];
    throw new ApiError(
      response.status,
      typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`,
      typeof error?.message === 'string' ? error.message : response.statusText || `HTTP ${response.status}`,
      fields,
      error?.details,
    );
  }
  return { status: response.status, body: parsed as T };
}

export async function get<T>(path: string, query?: Record<string, string | undefined>): Promise<T> {
  return (await call<T>({ method: 'GET', path, ...(query ? { query } : {}) })).body;
}

export async function post<T>(path: string, body: unknown, headers?: Record<string, string>): Promise<T> {
  return (await call<T>({ method: 'POST', path, body, ...(headers ? { headers } : {}) })).body;
}

/** A fresh idempotency key per user action. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---- the API's shapes (DESIGN §3, §8, §9) ---------------------------------------------------------------------------

export interface Device {
  manufacturer?: string | null;
  model?: string | null;
  deviceName?: string | null;
}

export interface Token {
  virtualCardId: string;
  issuerCardRefId: string;
  walletProviderId: string | null;
  state: 'INACTIVE' | 'ACTIVE' | 'SUSPENDED' | 'DELETED';
  lastAction: string | null;
  lastChangeSource: string | null;
  lastOperationId: string | null;
  renewals: number;
  lastRenewedAt: string | null;
  updatedAt: string;
  /** Rendered only when the API sends them. */
  tokenStorageId?: string | null;
  walletCardRefId?: string | null;
  device?: Device | null;
}

export interface CardTokens {
  issuerCardRefId: string;
  tokens: Token[];
  nextToken: string | null;
}

export interface HistoryEvent {
  at: string;
  action: string;
  source: string;
  correlationId: string;
  operationId: string | null;
  errorCode: number | null;
  outcome: 'APPLIED' | 'SUPERSEDED' | 'FAILED' | 'IGNORED';
  stateAfter: string | null;
  requestedBy?: string | null;
}

export interface History {
  virtualCardId: string;
  events: HistoryEvent[];
  nextToken: string | null;
}

export type OperationStatus = 'PENDING' | 'SUBMITTED' | 'SUCCEEDED' | 'PARTIALLY_FAILED' | 'FAILED';
export const FINAL_STATUSES: readonly OperationStatus[] = ['SUCCEEDED', 'PARTIALLY_FAILED', 'FAILED'];

export interface Operation {
  operationId: string;
  correlationId: string;
  action: 'SUSPEND' | 'RESUME' | 'DELETE';
  scope: 'TOKEN' | 'CARD';
  issuerCardRefId: string;
  virtualCardId: string | null;
  status: OperationStatus;
  submitAttempts: number;
  failure: { reason: string; responseCode?: number; errorCode?: number } | null;
  tokens: Array<{ virtualCardId: string; outcome: string; errorCode?: number; at: string }>;
  requestedBy?: string | null;
  jobId?: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface NetworkToken {
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

export interface JobCards {
  cards: Array<{ issuerCardRefId: string; operationId: string | null; status: string }>;
  nextToken: string | null;
}

export interface Subscription {
  subscriptionId: string;
  url: string;
  eventTypes: string[];
  description: string | null;
  createdAt: string;
}
