import { applyTokenUpdate, type NetworkTokenState, type TokenUpdate, type TokenUpdateDecision } from '../domain/network-token';
import type { ChangeQueue } from '../ports/token-store';
import type { NetworkTokenStore } from '../ports/network-tokens';

/** What the webhook hands over: a validated update; optional fields may be null (= absent) or missing. */
export interface TokenUpdateNotice {
  tokenId: string;
  merchantId: string;
  /** ISO 8601 instant, any offset. */
  lastUpdateTimestamp: string;
  tokenState?: NetworkTokenState | null | undefined;
  tokenLastDigits?: string | null | undefined;
  tokenExpiryDate?: string | null | undefined;
  cardLastDigits?: string | null | undefined;
  cardExpiryDate?: string | null | undefined;
  cardBin?: string | null | undefined;
  par?: string | null | undefined;
  cardArt?: Record<string, unknown> | null | undefined;
}

/**
 * Webhook side of `notify-token-update` (rule 12): a valid update is queued and acknowledged at once (204); it is
 * applied asynchronously. `lastUpdateTimestamp` becomes epoch milliseconds: updates compare as instants at
 * millisecond precision, whatever offset or sub-millisecond digits D1 wrote.
 */
export async function recordTokenUpdate(deps: { queue: ChangeQueue<TokenUpdate>; now: () => Date }, correlationId: string, body: TokenUpdateNotice): Promise<TokenUpdate> {
  const update: TokenUpdate = {
    tokenId: body.tokenId,
    merchantId: body.merchantId,
    lastUpdateTimestamp: Date.parse(body.lastUpdateTimestamp),
    ...(body.tokenState != null ? { tokenState: body.tokenState } : {}),
    ...(body.tokenLastDigits != null ? { tokenLastDigits: body.tokenLastDigits } : {}),
    ...(body.tokenExpiryDate != null ? { tokenExpiryDate: body.tokenExpiryDate } : {}),
    ...(body.cardLastDigits != null ? { cardLastDigits: body.cardLastDigits } : {}),
    ...(body.cardExpiryDate != null ? { cardExpiryDate: body.cardExpiryDate } : {}),
    ...(body.cardBin != null ? { cardBin: body.cardBin } : {}),
    ...(body.par != null ? { par: body.par } : {}),
    ...(body.cardArt != null ? { cardArt: body.cardArt } : {}),
    correlationId,
    receivedAt: deps.now().toISOString(),
  };
  await deps.queue.send(update);
  return update;
}

const MAX_CONFLICT_RETRIES = 8;

/**
 * Apply consumer (rules 10, 11): decide on a fresh read, write on the read version. Two deliveries racing — the
 * same update twice, or an older and a newer one — cannot both win: the loser's write fails its condition, it
 * re-reads, and is then a DUPLICATE or STALE.
 */
export async function applyTokenUpdateUseCase(deps: { store: NetworkTokenStore }, update: TokenUpdate): Promise<TokenUpdateDecision> {
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
    const current = await deps.store.get(update.tokenId);
    const decision = applyTokenUpdate(current, update);
    if (decision.outcome !== 'APPLIED' || !decision.token) return decision;
    const saved = await deps.store.applyUpdate(decision.token, current?.version ?? null, decision.dropTokenPan);
    if (saved === 'SAVED') return decision;
  }
  throw new Error(`network token ${update.tokenId} kept changing; left for redelivery`);
}
