import { createHash, randomUUID } from 'node:crypto';
import { DomainError, notFound } from '../domain/errors';
import { newOperation, newOperationId, type LcmAction, type Operation } from '../domain/operation';
import type { SubmissionQueue } from '../ports/queues';
import type { OperationStore } from '../ports/operation-store';
import type { TokenStore } from '../ports/token-store';
import { allCardTokens } from './card-tokens';

export interface OperationRequest {
  action: LcmAction;
  issuerCardRefId: string;
  virtualCardId?: string | undefined;
  reason?: string | undefined;
}

export interface RequestDeps {
  tokens: Pick<TokenStore, 'getToken' | 'listCardTokens'>;
  operations: OperationStore;
  queue: SubmissionQueue;
  now: () => Date;
  newId?: () => string;
}

/** Idempotency keys live ≥ 24 h (DESIGN §2 rule 15); an hour more covers clock skew between callers and us. */
const IDEMPOTENCY_TTL_SECONDS = 25 * 3600;

/** Same body = same validated fields, whatever their order or the whitespace around them. */
export function requestHash(request: object): string {
  const canonical = Object.fromEntries(
    Object.entries(request)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

export type RequestResult = { created: true; operation: Operation } | { created: false; operation: Operation };

export class SubmissionNotQueued extends DomainError {
  constructor() {
    super('UNAVAILABLE', 'the operation could not be queued for D1; it was marked FAILED, retry with a new idempotency key');
  }
}

/**
 * `POST /v1/lcm-operations`: record the operation (PENDING) *before* anything reaches D1 — so a callback that
 * beats D1's HTTP answer finds it — then queue its first attempt.
 *
 * - An idempotency key replayed with the same body returns the current operation (no second operation, no
 *   second D1 call); with another body it is IDEMPOTENCY_KEY_REUSED. Only accepted requests claim a key.
 * - TOKEN scope on a token we know as DELETED is TOKEN_DELETED, nothing sent. CARD scope never is: its expected
 *   set is the card's tokens not DELETED now (possibly empty) and the request is forwarded.
 *
 * (primary adapter) LCM API handler → this use case → (secondary adapters) DynamoDB, SQS
 */
export async function requestOperation(
  deps: RequestDeps,
  request: OperationRequest,
  idempotencyKey?: string,
  caller: { requestedBy?: string | null } = {},
): Promise<RequestResult> {
  const hash = requestHash(request);
  const replay = async (existing: { operationId: string; requestHash: string }): Promise<RequestResult> => {
    if (existing.requestHash !== hash) throw new DomainError('IDEMPOTENCY_KEY_REUSED', 'idempotency-key was used with another request');
    const operation = await deps.operations.get(existing.operationId);
    if (!operation) throw notFound('operation');
    return { created: false, operation };
  };

  // A replay answers with the operation as it is now, even if the token has been DELETED since (by it, say).
  const claimed = idempotencyKey ? await deps.operations.findIdempotencyKey(idempotencyKey) : null;
  if (claimed) return replay(claimed);

  const operation = await prepareOperation(deps, request, { requestedBy: caller.requestedBy ?? null, jobId: null });
  const now = new Date(operation.createdAt);
  const claim = idempotencyKey ? { key: idempotencyKey, requestHash: hash, expiresAt: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS } : undefined;
  const created = await deps.operations.create(operation, claim);
  if (created.kind === 'key-exists') return replay(created);
  await queueFirstAttempt(deps, operation);
  return { created: true, operation };
}

/**
 * One card of a bulk job (DESIGN §9), started as the CARD-scope operation `POST /v1/lcm-operations` would create
 * (same expected tokens, card sequence, submitter, callbacks): its creation and the card's start are one
 * transaction, conditioned on the card being QUEUED and the job RUNNING, so a redelivered tick never creates a
 * second operation for a card. NOT_STARTABLE: the card was started already or the job stopped running.
 * `deps.queue` is the bulk lane.
 */
export async function startJobCard(
  deps: RequestDeps,
  job: { jobId: string; action: LcmAction; reason: string | null; requestedBy: string | null },
  issuerCardRefId: string,
): Promise<'STARTED' | 'NOT_STARTABLE'> {
  const request = { action: job.action, issuerCardRefId, ...(job.reason === null ? {} : { reason: job.reason }) };
  const operation = await prepareOperation(deps, request, { requestedBy: job.requestedBy, jobId: job.jobId });
  if ((await deps.operations.create(operation)).kind === 'card-not-startable') return 'NOT_STARTABLE';
  await queueFirstAttempt(deps, operation);
  return 'STARTED';
}

/** The operation as recorded before anything reaches D1: its expected tokens and its place in the card's order. */
async function prepareOperation(
  deps: RequestDeps,
  request: OperationRequest,
  origin: { requestedBy: string | null; jobId: string | null },
): Promise<Operation> {
  const { expectedTokens, orderCard } = await expectedTokensOf(deps, request);
  const now = deps.now();
  const sequence = await deps.operations.nextSequence(orderCard);
  return newOperation({ ...request, operationId: deps.newId ? deps.newId() : newOperationId(randomUUID), expectedTokens, now, sequence, ...origin });
}

/** Queues attempt 1; if the queue refuses, nothing would ever submit it: say so on the operation (FAILED). */
async function queueFirstAttempt(deps: RequestDeps, operation: Operation): Promise<void> {
  try {
    await deps.queue.submit({ operationId: operation.operationId, attempt: 1 }, 0);
  } catch {
    await deps.operations.save({ ...operation, status: 'FAILED', failure: { reason: 'D1_UNAVAILABLE' }, updatedAt: deps.now().toISOString() }, operation);
    throw new SubmissionNotQueued();
  }
}

/**
 * The tokens the operation expects callbacks for, and the card whose counter orders it: the token's own card when
 * we know the token (rule 5 compares orders on one token, so they must come from its card's counter, whatever
 * card the request names).
 */
async function expectedTokensOf(deps: RequestDeps, request: OperationRequest): Promise<{ expectedTokens: string[]; orderCard: string }> {
  if (request.virtualCardId !== undefined) {
    const token = await deps.tokens.getToken(request.virtualCardId);
    if (token?.state === 'DELETED') throw new DomainError('TOKEN_DELETED', 'the token is deleted');
    return { expectedTokens: [request.virtualCardId], orderCard: token?.issuerCardRefId ?? request.issuerCardRefId };
  }
  const tokens = await allCardTokens(deps.tokens, request.issuerCardRefId);
  return { expectedTokens: tokens.filter((t) => t.state !== 'DELETED').map((t) => t.virtualCardId), orderCard: request.issuerCardRefId };
}
