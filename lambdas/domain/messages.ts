import * as z from 'zod';
import { EVENT_TYPES } from './events';
import { NETWORK_TOKEN_STATES } from './network-token';

/**
 * The messages our queues carry, as the consumers re-validate them: a message that does not parse is not retried
 * into success, it fails until the DLQ takes it (alarmed). The webhooks build them from validated requests.
 */

/** issuer-callbacks: one callback as received (a VirtualCardChange). */
export const virtualCardChangeMessage = z.object({
  correlationId: z.string().min(1).max(64),
  issuerCardRefId: z.string().min(1).max(48),
  virtualCardId: z.string().min(1).max(64),
  action: z.string().min(1).max(32),
  errorCode: z.number().int().nullable(),
  source: z.string().nullable(),
  walletProviderId: z.string().nullable(),
  receivedAt: z.iso.datetime({ offset: true }),
});

/** d1-requests: one attempt of one operation. */
export const submissionMessage = z.object({ operationId: z.string().min(1), attempt: z.number().int().min(1) });

/** token-updates: one network-token update as received (a TokenUpdate). */
export const tokenUpdateMessage = z.object({
  tokenId: z.string().min(1),
  merchantId: z.string().min(1),
  lastUpdateTimestamp: z.number().int(),
  tokenState: z.enum(NETWORK_TOKEN_STATES).optional(),
  tokenLastDigits: z.string().optional(),
  tokenExpiryDate: z.string().optional(),
  cardLastDigits: z.string().optional(),
  cardExpiryDate: z.string().optional(),
  cardBin: z.string().optional(),
  par: z.string().optional(),
  cardArt: z.record(z.string(), z.unknown()).optional(),
  correlationId: z.string().min(1),
  receivedAt: z.string(),
});

/** webhook-deliveries: one attempt to deliver one event to one subscription. */
export const webhookDeliveryMessage = z.object({
  subscriptionId: z.string().min(1),
  event: z.object({ id: z.string().min(1), type: z.enum(EVENT_TYPES), timestamp: z.string(), data: z.record(z.string(), z.unknown()) }),
  /** 1 for the first try; a failed try enqueues the next one, delayed by the backoff. */
  attempt: z.number().int().min(1),
  /** When the first try was enqueued: retries go on for at least 24 h from here, then the DLQ. */
  firstAttemptAt: z.iso.datetime({ offset: true }),
  /** A wait longer than SQS's 900 s delay is several hops: the consumer re-enqueues, unsent, until this instant. */
  notBefore: z.iso.datetime({ offset: true }).optional(),
  /**
   * Set when the retry budget ran out and the delivery was parked in the DLQ. A redriven message still carries it:
   * the consumer then starts a fresh budget (attempt 1, firstAttemptAt now) instead of parking it again at once.
   */
  parkedAt: z.iso.datetime({ offset: true }).optional(),
  /** Why the last attempt failed (`HTTP 500`, `timeout`…), for the operator reading the DLQ; never the body. */
  lastError: z.string().max(200).optional(),
});
export type WebhookDelivery = z.infer<typeof webhookDeliveryMessage>;
