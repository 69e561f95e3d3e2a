import type { VirtualCardChange } from '../domain/virtual-card-change';
import type { ChangeQueue } from '../ports/queues';

/** What the webhook hands over: a validated callback body (optional fields may be null or absent). */
export interface VirtualCardChangeNotice {
  issuerCardRefId: string;
  virtualCardId: string;
  action: string;
  errorCode?: number | null | undefined;
  source?: string | null | undefined;
  walletProviderId?: string | null | undefined;
  tokenStorageId?: string | null | undefined;
  walletCardRefId?: string | null | undefined;
}

/**
 * Webhook side of `notifyVirtualCardChange` (rule 1): turn a valid callback into a VirtualCardChange and hand it
 * to the queue. Only once the queue accepted it may the webhook answer 2xx; a failure propagates (→ 5xx, D1
 * retries). `tokenInfo` is card data and is deliberately not carried over.
 *
 * (primary adapter) webhook handler → this use case → (secondary adapter) SQS
 */
export async function recordVirtualCardChange(
  deps: { queue: ChangeQueue<VirtualCardChange>; now: () => Date },
  correlationId: string,
  body: VirtualCardChangeNotice,
): Promise<VirtualCardChange> {
  const change: VirtualCardChange = {
    correlationId,
    issuerCardRefId: body.issuerCardRefId,
    virtualCardId: body.virtualCardId,
    action: body.action,
    errorCode: body.errorCode ?? null,
    source: body.source ?? null,
    walletProviderId: body.walletProviderId ?? null,
    tokenStorageId: body.tokenStorageId ?? null,
    walletCardRefId: body.walletCardRefId ?? null,
    receivedAt: deps.now().toISOString(),
  };
  await deps.queue.send(change);
  return change;
}
