import * as z from 'zod/mini';
import { defineSpec } from '../spec';

// zod/mini: the hot path's bundles carry no classic zod (bench section 6).
const optionalString = (max: number) => z.nullish(z.string().check(z.minLength(1), z.maxLength(max)));

export const notifyVirtualCardChangeHeaders = z
  .object({
    'x-correlation-id': z.string().check(z.minLength(1), z.maxLength(64)),
    'x-issuer-id': z.string().check(z.length(10)),
  })
  .register(z.globalRegistry, { id: 'NotifyVirtualCardChangeHeaders' });

/** D1's callback body. Unknown fields are stripped (D1 may add fields); optional fields accept `null` as absent. */
export const notifyVirtualCardChangeBody = z
  .object({
    issuerCardRefId: z.string().check(z.minLength(1), z.maxLength(48)),
    virtualCardId: z.string().check(z.minLength(1), z.maxLength(64)),
    action: z.string().check(z.minLength(1), z.maxLength(32)),
    walletProviderId: optionalString(128),
    /** `null` means absent; a string is a 400 (a numeric code sent as text is a D1 contract break). */
    errorCode: z.nullish(z.number().check(z.int())),
    /** Any string (no length cap: rejecting would lose the callback); other than WALLET/TSP/ISSUER → UNKNOWN. */
    source: z.nullish(z.string()),
    isPrimary: z.nullish(z.boolean()),
    tokenStorageId: optionalString(128),
    walletCardRefId: optionalString(128),
    walletVirtualCardId: optionalString(128),
    /** Card data (DPAN): validated for shape, then dropped — never stored, never logged, never queued. */
    tokenInfo: z.nullish(z.union([z.record(z.string(), z.unknown()), z.string()])),
  })
  .register(z.globalRegistry, { id: 'NotifyVirtualCardChange' });

export const spec = defineSpec({
  description: "D1's notifyVirtualCardChange webhook: validate, queue durably, then 200",
  env: ['ISSUER_ID', 'ISSUER_CALLBACKS_QUEUE_URL'],
  table: 'none',
  sendsTo: ['issuerCallbacks'],
  routes: {
    notifyVirtualCardChange: {
      apis: ['webhooks'],
      method: 'POST',
      path: '/issuer/igwapi/v2.0/notifyVirtualCardChange',
      auth: 'none',
      summary: 'D1 callback: a token changed (our operation, wallet, TSP, renewal)',
      request: { headers: notifyVirtualCardChangeHeaders, body: notifyVirtualCardChangeBody },
      responses: { 200: z.object({}) },
      errors: [400, 403, 413, 415, 503],
      countRejections: true,
    },
  },
});
