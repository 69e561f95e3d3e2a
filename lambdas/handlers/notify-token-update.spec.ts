import * as z from 'zod/mini';
import { cardDigits, mmyy } from '../domain/card-data-schemas';
import { NETWORK_TOKEN_STATES } from '../domain/network-token';
import { defineSpec } from '../spec';

const MAX_CARD_ART_BYTES = 8 * 1024;
const MAX_CARD_ART_DEPTH = 32;

/** Nesting depth without recursion, so a hostile 10 000-level object cannot overflow the stack. */
function depthWithin(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return false;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return true;
}

export const notifyTokenUpdateHeaders = z
  .object({ 'x-correlation-id': z.string().check(z.minLength(1), z.maxLength(64)) })
  .register(z.globalRegistry, { id: 'NotifyTokenUpdateHeaders' });

/**
 * Optional fields accept null as absent: "absent fields keep their value" (rule 10). Unknown fields are stripped.
 * zod/mini (as notifyVirtualCardChange's): the hot path's bundles carry no classic zod (bench section 6).
 */
export const notifyTokenUpdateBody = z
  .object({
    tokenId: z.string().check(z.minLength(1), z.maxLength(128)),
    merchantId: z.string().check(z.minLength(1), z.maxLength(128)),
    lastUpdateTimestamp: z.iso.datetime({ offset: true }),
    tokenState: z.nullish(z.enum(NETWORK_TOKEN_STATES)),
    tokenLastDigits: z.nullish(cardDigits(1, 5)),
    tokenExpiryDate: z.nullish(mmyy),
    cardLastDigits: z.nullish(cardDigits(1, 5)),
    cardExpiryDate: z.nullish(mmyy),
    cardBin: z.nullish(cardDigits(6, 8)),
    par: z.nullish(z.string().check(z.minLength(1), z.maxLength(29))),
    /** Stored opaque (as its JSON text): any JSON object up to 8 KiB and 32 levels. */
    cardArt: z.nullish(
      z.record(z.string(), z.unknown()).check(
        z.superRefine((art, ctx) => {
          if (!depthWithin(art, MAX_CARD_ART_DEPTH)) ctx.addIssue({ code: 'custom', message: `must nest at most ${MAX_CARD_ART_DEPTH} levels` });
          else if (Buffer.byteLength(JSON.stringify(art)) > MAX_CARD_ART_BYTES) ctx.addIssue({ code: 'custom', message: 'must be at most 8 KiB serialised' });
        }),
      ),
    ),
  })
  .register(z.globalRegistry, { id: 'NotifyTokenUpdate' });

export const spec = defineSpec({
  description: 'D1 to the token requestor: a network token changed. APIKEY checked, validated, queued, then 204',
  env: ['TR_API_KEY', 'TOKEN_UPDATES_QUEUE_URL'],
  table: 'none',
  sendsTo: ['tokenUpdates'],
  routes: {
    notifyTokenUpdate: {
      apis: ['webhooks'],
      method: 'POST',
      path: '/tsh-cof/notify-token-update',
      auth: 'none',
      summary: 'D1 to the token requestor: a network token changed',
      request: { headers: notifyTokenUpdateHeaders, body: notifyTokenUpdateBody },
      responses: { 204: null },
      errors: [400, 401, 413, 415, 503],
      countRejections: true,
    },
  },
});
