import type { D1Answer, LcmAction } from '../domain/operation';
import type { D1VirtualCard } from '../domain/reconciliation';

export interface UpdateCardStateRequest {
  correlationId: string;
  issuerCardRefId: string;
  /** Absent for CARD scope: the body then leaves the field out entirely. */
  virtualCardId?: string | undefined;
  action: LcmAction;
  reason?: string | undefined;
}

/** D1 Issuer Gateway, as far as LCM needs it. Transport failures come back as answers, never as throws. */
export type CardInfoAnswer =
  { kind: 'ok'; virtualCards: D1VirtualCard[] } | { kind: 'unavailable' } | { kind: 'rejected'; status: number; responseCode?: number | undefined };

export interface D1IssuerGateway {
  updateCardState(request: UpdateCardStateRequest): Promise<D1Answer>;
  getCardInfo(request: { issuerCardRefId: string; correlationId: string }): Promise<CardInfoAnswer>;
}
