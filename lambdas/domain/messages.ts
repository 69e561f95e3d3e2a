import * as z from 'zod/mini';
import { EVENT_TYPES } from './events';
import { NETWORK_TOKEN_STATES } from './network-token';

/**
 * The messages our queues carry, as the consumers re-validate them: a message that does not parse is not retried
 * into success, it fails until the DLQ takes it (alarmed). The webhooks build them from validated requests.
 * zod/mini, like the env schema: a consumer's bundle then carries no classic zod (bench section 6).
 */

/** issuer-callbacks: one callback as received (a VirtualCardChange). */
export const virtualCardChangeMessage = z.object({
  correlationId: z.string().check(z.minLength(1), z.maxLength(64)),
  issuerCardRefId: z.string().check(z.minLength(1), z.maxLength(48)),
  virtualCardId: z.string().check(z.minLength(1), z.maxLength(64)),
  action: z.string().check(z.minLength(1), z.maxLength(32)),
  errorCode: z.nullable(z.number().check(z.int())),
  source: z.nullable(z.string()),
  walletProviderId: z.nullable(z.string()),
  // Optional: messages queued before these fields existed still parse.
  tokenStorageId: z.nullish(z.string().check(z.maxLength(128))),
  walletCardRefId: z.nullish(z.string().check(z.maxLength(128))),
  receivedAt: z.iso.datetime({ offset: true }),
});

/** d1-requests: one attempt of one operation. */
export const submissionMessage = z.object({ operationId: z.string().check(z.minLength(1)), attempt: z.number().check(z.int(), z.minimum(1)) });

/** lcm-jobs: one tick of a bulk job's chain, claimed by moving the job from `generation` to `generation + 1`. */
export const jobTickMessage = z.object({ jobId: z.string().check(z.minLength(1)), generation: z.number().check(z.int(), z.minimum(0)) });

/** token-updates: one network-token update as received (a TokenUpdate). */
export const tokenUpdateMessage = z.object({
  tokenId: z.string().check(z.minLength(1)),
  merchantId: z.string().check(z.minLength(1)),
  lastUpdateTimestamp: z.number().check(z.int()),
  tokenState: z.optional(z.enum(NETWORK_TOKEN_STATES)),
  tokenLastDigits: z.optional(z.string()),
  tokenExpiryDate: z.optional(z.string()),
  cardLastDigits: z.optional(z.string()),
  cardExpiryDate: z.optional(z.string()),
  cardBin: z.optional(z.string()),
  par: z.optional(z.string()),
  cardArt: z.optional(z.record(z.string(), z.unknown())),
  correlationId: z.string().check(z.minLength(1)),
  receivedAt: z.string(),
});

/** webhook-deliveries: one attempt to deliver one event to one subscription. */
export const webhookDeliveryMessage = z.object({
  subscriptionId: z.string().check(z.minLength(1)),
  event: z.object({ id: z.string().check(z.minLength(1)), type: z.enum(EVENT_TYPES), timestamp: z.string(), data: z.record(z.string(), z.unknown()) }),
  /** 1 for the first try; a failed try enqueues the next one, delayed by the backoff. */
  attempt: z.number().check(z.int(), z.minimum(1)),
  /** When the first try was enqueued: retries go on for at least 24 h from here, then the DLQ. */
  firstAttemptAt: z.iso.datetime({ offset: true }),
  /** A wait longer than SQS's 900 s delay is several hops: the consumer re-enqueues, unsent, until this instant. */
  notBefore: z.optional(z.iso.datetime({ offset: true })),
  /**
   * Set when the retry budget ran out and the delivery was parked in the DLQ. A redriven message still carries it:
   * the consumer then starts a fresh budget (attempt 1, firstAttemptAt now) instead of parking it again at once.
   */
  parkedAt: z.optional(z.iso.datetime({ offset: true })),
  /** Why the last attempt failed (`HTTP 500`, `timeout`…), for the operator reading the DLQ; never the body. */
  lastError: z.optional(z.string().check(z.maxLength(200))),
});
export type WebhookDelivery = z.infer<typeof webhookDeliveryMessage>;
