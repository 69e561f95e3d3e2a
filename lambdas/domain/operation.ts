/**
 * An issuer-initiated LCM operation (mission part 1): SUSPEND / RESUME / DELETE of one token or of every token of
 * a card, sent to D1 `updateCardState` and completed from `notifyVirtualCardChange` callbacks.
 *
 * Status only moves forward (rule 8): PENDING → SUBMITTED → SUCCEEDED | PARTIALLY_FAILED | FAILED (final).
 */

export const LCM_ACTIONS = ['SUSPEND', 'RESUME', 'DELETE'] as const;
export type LcmAction = (typeof LCM_ACTIONS)[number];
export type OperationScope = 'TOKEN' | 'CARD';

export const OPERATION_STATUSES = ['PENDING', 'SUBMITTED', 'SUCCEEDED', 'PARTIALLY_FAILED', 'FAILED'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];
const RANK: Record<OperationStatus, number> = { PENDING: 0, SUBMITTED: 1, SUCCEEDED: 2, PARTIALLY_FAILED: 2, FAILED: 2 };
export const isFinal = (status: OperationStatus): boolean => RANK[status] === 2;

export type FailureReason = 'D1_REJECTED' | 'D1_UNAVAILABLE' | 'CALLBACK_ERROR';
export interface OperationFailure {
  reason: FailureReason;
  responseCode?: number;
  errorCode?: number;
}

/** SUPERSEDED: D1 did it, but a change from a later operation of ours already stands (rule 5). */
export type TokenOutcome = 'SUCCEEDED' | 'FAILED' | 'SUPERSEDED';
export interface OperationTokenOutcome {
  virtualCardId: string;
  outcome: TokenOutcome;
  errorCode?: number;
  at: string;
}

export interface Operation {
  operationId: string;
  /** Sent as x-correlation-id on every attempt; D1 echoes it on the callbacks. */
  correlationId: string;
  action: LcmAction;
  scope: OperationScope;
  issuerCardRefId: string;
  virtualCardId: string | null;
  reason: string | null;
  status: OperationStatus;
  submitAttempts: number;
  failure: OperationFailure | null;
  /** First outcome per token, in arrival order; tokens outside the expected set included. */
  tokens: OperationTokenOutcome[];
  /** Tokens whose callbacks complete the operation: the one token, or the card's non-DELETED tokens at creation. */
  expectedTokens: string[];
  createdAt: string;
  updatedAt: string;
  /**
   * Creation order (sortable): rule 5 compares it, between operations on one token. From the card's counter in
   * production, because createdAt ties within a millisecond and clocks of two Lambda instances disagree.
   */
  order: string;
  /** Who asked: the caller's IAM identity in AWS (user/role ARN), null locally or when the gateway names none. */
  requestedBy: string | null;
  /** The bulk job (DESIGN §9) this operation runs a card of, else null. */
  jobId: string | null;
  version: number;
}

export interface NewOperation {
  operationId: string;
  action: LcmAction;
  issuerCardRefId: string;
  virtualCardId?: string | undefined;
  reason?: string | undefined;
  expectedTokens: string[];
  now: Date;
  /**
   * The card's creation sequence (a counter per card in the store): orders the operations of one card, whatever
   * millisecond or Lambda created them. Rule 5 only ever compares operations on one token, and a token has one card.
   */
  sequence?: number | undefined;
  requestedBy?: string | null | undefined;
  jobId?: string | null | undefined;
}

/**
 * An order from the card's counter. The `c` sorts after both earlier formats (`#<global counter>`, `<createdAt>#…`),
 * so an operation created now is later than any a table written before still remembers on a token.
 */
const cardOrder = (sequence: number): string => `c${String(sequence).padStart(15, '0')}`;

/**
 * Our operation ids, which are also the x-correlation-ids we send D1: a random UUID whose version group is `8d1c`
 * (UUID version 8, "custom", 106 random bits). A callback whose correlation id lacks that shape was not started by
 * us (wallet, TSP, renewal), so the apply consumer skips reading an operation that cannot exist: one key less per
 * callback in the read it makes anyway. An id that merely looks like ours only costs that read; it never matches.
 */
const OPERATION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-8d1c-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const newOperationId = (randomUuid: () => string): string => {
  const [a, b, , d, e] = randomUuid().split('-');
  return `${a}-${b}-8d1c-${d}-${e}`;
};

export const mayBeOurOperation = (correlationId: string): boolean => OPERATION_ID.test(correlationId);

export function newOperation(input: NewOperation): Operation {
  const createdAt = input.now.toISOString();
  return {
    operationId: input.operationId,
    correlationId: input.operationId,
    action: input.action,
    scope: input.virtualCardId === undefined ? 'CARD' : 'TOKEN',
    issuerCardRefId: input.issuerCardRefId,
    virtualCardId: input.virtualCardId ?? null,
    reason: input.reason ?? null,
    status: 'PENDING',
    submitAttempts: 0,
    failure: null,
    tokens: [],
    expectedTokens: input.expectedTokens,
    createdAt,
    updatedAt: createdAt,
    order: input.sequence === undefined ? `${createdAt}#${input.operationId}` : cardOrder(input.sequence),
    requestedBy: input.requestedBy ?? null,
    jobId: input.jobId ?? null,
    version: 0,
  };
}

/** The public view (DESIGN §3 Operation). `errorCode` only on FAILED token outcomes. */
export function operationView(op: Operation) {
  return {
    operationId: op.operationId,
    correlationId: op.correlationId,
    action: op.action,
    scope: op.scope,
    issuerCardRefId: op.issuerCardRefId,
    virtualCardId: op.virtualCardId,
    status: op.status,
    submitAttempts: op.submitAttempts,
    failure: op.failure,
    tokens: op.tokens.map((t) => ({
      virtualCardId: t.virtualCardId,
      outcome: t.outcome,
      ...(t.outcome === 'FAILED' && t.errorCode !== undefined ? { errorCode: t.errorCode } : {}),
      at: t.at,
    })),
    requestedBy: op.requestedBy,
    jobId: op.jobId,
    createdAt: op.createdAt,
    updatedAt: op.updatedAt,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Submission to D1 (DESIGN §4 retry policy)

export type D1Answer =
  { kind: 'accepted' } | { kind: 'network-error' } | { kind: 'timeout' } | { kind: 'http-error'; status: number; responseCode?: number | undefined };

const TRANSIENT_RESPONSE_CODES = new Set([221, 321, 322, 921]);

/** Transient: network, timeout, 429, 5xx, 400 with responseCode 221/321/322/921. Any other 4xx is final. */
export function isTransient(answer: D1Answer): boolean {
  if (answer.kind === 'accepted') return false;
  if (answer.kind !== 'http-error') return true;
  if (answer.status === 429 || answer.status >= 500) return true;
  return answer.status === 400 && answer.responseCode !== undefined && TRANSIENT_RESPONSE_CODES.has(answer.responseCode);
}

/**
 * Exponential backoff with "equal jitter" (half fixed, half random), in whole seconds because that is what SQS
 * `DelaySeconds` takes: a sub-second base becomes 1 s. Capped at SQS's 900 s.
 */
export function retryDelaySeconds(attempt: number, baseDelayMs: number, random: number): number {
  const exponential = baseDelayMs * 2 ** (attempt - 1);
  const jittered = exponential / 2 + (exponential / 2) * random;
  return Math.min(900, Math.max(1, Math.ceil(jittered / 1000)));
}

export type SubmissionDecision =
  | { kind: 'skip' } // the operation no longer wants calls (a callback or a final status arrived)
  | { kind: 'call' };

/** Before a call: only a PENDING operation whose attempt has not been made yet calls D1 (rule 8). */
export function shouldSubmit(op: Operation, attempt: number): SubmissionDecision {
  return op.status === 'PENDING' && op.submitAttempts < attempt ? { kind: 'call' } : { kind: 'skip' };
}

export interface SubmissionOutcome {
  operation: Operation;
  /** Attempt number to enqueue next, or null. */
  retryAttempt: number | null;
  /** The change worth a metric/log. */
  event: 'SUBMITTED' | 'RETRY' | 'D1_REJECTED' | 'D1_UNAVAILABLE' | 'LATE_ANSWER';
}

/**
 * Records D1's answer to attempt `attempt`. A late answer never moves the status back, and a late failure never
 * overrides a status a callback produced: only a PENDING operation takes the answer's status.
 */
export function recordSubmission(op: Operation, attempt: number, answer: D1Answer, maxAttempts: number, now: Date): SubmissionOutcome {
  const counted: Operation = { ...op, submitAttempts: Math.max(op.submitAttempts, attempt), updatedAt: now.toISOString() };
  if (op.status !== 'PENDING') return { operation: counted, retryAttempt: null, event: 'LATE_ANSWER' };
  if (answer.kind === 'accepted') return { operation: { ...counted, status: 'SUBMITTED' }, retryAttempt: null, event: 'SUBMITTED' };
  if (isTransient(answer)) {
    if (attempt < maxAttempts) return { operation: counted, retryAttempt: attempt + 1, event: 'RETRY' };
    return { operation: { ...counted, status: 'FAILED', failure: failureFrom('D1_UNAVAILABLE', answer) }, retryAttempt: null, event: 'D1_UNAVAILABLE' };
  }
  return { operation: { ...counted, status: 'FAILED', failure: failureFrom('D1_REJECTED', answer) }, retryAttempt: null, event: 'D1_REJECTED' };
}

function failureFrom(reason: FailureReason, answer: D1Answer): OperationFailure {
  return answer.kind === 'http-error' && answer.responseCode !== undefined ? { reason, responseCode: answer.responseCode } : { reason };
}

// ---------------------------------------------------------------------------------------------------------
// Completion from callbacks (rules 3, 8)

export interface CallbackOutcome {
  operation: Operation;
  /** False when this operation already had an outcome for the token: the callback is IGNORED (first wins). */
  accepted: boolean;
}

/**
 * Records one token's outcome. The first outcome per (operation, token) wins; the status is derived from the
 * outcomes and only moves forward. Any callback means D1 accepted the request: no more submission attempts.
 */
export function recordCallbackOutcome(op: Operation, outcome: OperationTokenOutcome): CallbackOutcome {
  if (op.tokens.some((t) => t.virtualCardId === outcome.virtualCardId)) return { operation: op, accepted: false };
  const tokens = [...op.tokens, outcome];
  const withOutcome: Operation = { ...op, tokens, updatedAt: outcome.at };
  if (isFinal(op.status)) return { operation: withOutcome, accepted: true };
  const derived = deriveStatus(withOutcome);
  return { operation: { ...withOutcome, status: derived.status, failure: derived.failure }, accepted: true };
}

function deriveStatus(op: Operation): { status: OperationStatus; failure: OperationFailure | null } {
  // An empty expected set (every known token DELETED, or none known): the tokens D1 reported stand in for it.
  const expected = op.expectedTokens.length > 0 ? op.expectedTokens : op.tokens.map((t) => t.virtualCardId);
  const reported = expected.map((id) => op.tokens.find((t) => t.virtualCardId === id));
  if (reported.some((t) => t === undefined)) return { status: 'SUBMITTED', failure: null };
  const failed = reported.filter((t) => t?.outcome === 'FAILED');
  if (failed.length === 0) return { status: 'SUCCEEDED', failure: null };
  if (failed.length < reported.length) return { status: 'PARTIALLY_FAILED', failure: null };
  const errorCode = failed[0]?.errorCode;
  return { status: 'FAILED', failure: errorCode === undefined ? { reason: 'CALLBACK_ERROR' } : { reason: 'CALLBACK_ERROR', errorCode } };
}
