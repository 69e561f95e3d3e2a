import * as z from 'zod';
import { defineSpec } from '../spec';

const optionalString = (max: number) => z.string().min(1).max(max).nullish();

export const notifyVirtualCardChangeHeaders = z
  .object({
    'x-correlation-id': z.string().min(1).max(64),
    'x-issuer-id': z.string().length(10),
  })
  .meta({ id: 'NotifyVirtualCardChangeHeaders' });

/** D1's callback body. Unknown fields are stripped (D1 may add fields); optional fields accept `null` as absent. */
export const notifyVirtualCardChangeBody = z
  .object({
    issuerCardRefId: z.string().min(1).max(48),
    virtualCardId: z.string().min(1).max(64),
    action: z.string().min(1).max(32),
    walletProviderId: optionalString(128),
    /** `null` means absent; a string is a 400 (a numeric code sent as text is a D1 contract break). */
    errorCode: z.number().int().nullish(),
    /** Any string (no length cap: rejecting would lose the callback); other than WALLET/TSP/ISSUER → UNKNOWN. */
    source: z.string().nullish(),
    isPrimary: z.boolean().nullish(),
    tokenStorageId: optionalString(128),
    walletCardRefId: optionalString(128),
    walletVirtualCardId: optionalString(128),
    /** Card data (DPAN): validated for shape, then dropped — never stored, never logged, never queued. */
    tokenInfo: z.union([z.record(z.string(), z.unknown()), z.string()]).nullish(),
  })
  .meta({ id: 'NotifyVirtualCardChange' });

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
