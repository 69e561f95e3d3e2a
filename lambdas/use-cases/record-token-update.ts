import type { NetworkTokenState, TokenUpdate } from '../domain/network-token';
import type { ChangeQueue } from '../ports/queues';

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
export async function recordTokenUpdate(
  deps: { queue: ChangeQueue<TokenUpdate>; now: () => Date },
  correlationId: string,
  body: TokenUpdateNotice,
): Promise<TokenUpdate> {
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
