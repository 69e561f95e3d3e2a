/**
 * Bodies of the control API's seed and send routes (`/_sim/cards`, `/_sim/callbacks`, `/_sim/network-tokens`,
 * `/_sim/token-updates` and their batches). Fields the simulator defaults are lenient: a value it cannot use
 * gets the default rather than a 400. Checks that depend on the model (a new token needs its merchantId) run
 * between two schemas, so they keep their place in the order fields are checked.
 */
import * as z from 'zod';
import { isObject } from './http';
import { STATUSES, TOKEN_FIELDS, TOKEN_ID } from './model';
import { count, text } from './validation';

const ORDERS = ['as-given', 'reverse', 'shuffle'] as const;
/** Delivery order of a batch; the model always changes in the order given. */
const order = z
  .enum(ORDERS, { error: 'order must be as-given, reverse or shuffle' })
  .nullish()
  .transform((o) => o ?? 'as-given');
/** A value the simulator passes through or defaults, never rejects. */
const lenientText = z.string().min(1).optional().catch(undefined);

const deliveryShape = {
  duplicate: count('delivery.duplicate').default(0),
  delayMs: count('delivery.delayMs').default(0),
  concurrent: z.boolean().catch(false),
};

export const cardSchema = z.object({
  issuerCardRefId: text('issuerCardRefId is required'),
  tokens: z
    .array(
      z.object(
        {
          virtualCardId: text('tokens[].virtualCardId is required'),
          walletProviderId: z.string().min(1).catch('APPLE_PAY'),
          status: z
            .enum(STATUSES, { error: `tokens[].status must be one of ${STATUSES.join(', ')}` })
            .nullish()
            .transform((s) => s ?? 'RESUMED'),
          /** The descriptive fields getCardInfo answers in deviceInformation (any length: our service truncates). */
          device: z.object({ manufacturer: lenientText, model: lenientText, deviceName: lenientText }).optional().catch(undefined),
        },
        { error: 'tokens[].virtualCardId is required' },
      ),
      { error: 'tokens must be an array' },
    )
    .nullish()
    .transform((t) => t ?? []),
});

/** `/_sim/card-batches`: `count` generated cards of one token each, `<prefix>-card-<i>` with `<prefix>-vc-<i>`. */
export const cardBatchSchema = z.object({
  prefix: z.string({ error: 'prefix must match ^[a-zA-Z0-9_-]{1,32}$' }).regex(/^[a-zA-Z0-9_-]{1,32}$/, { error: 'prefix must match ^[a-zA-Z0-9_-]{1,32}$' }),
  count: count('count', 1).refine((n) => n <= 10_000, { error: 'count must be at most 10000' }),
  /** One ACTIVATE callback per token to our webhook (how the service learns tokens), unless false. */
  activate: z.boolean({ error: 'activate must be a boolean' }).default(true),
});

const CALLBACK_IDS = 'issuerCardRefId, virtualCardId and action are required strings';
export const callbackSchema = z.object(
  {
    issuerCardRefId: text(CALLBACK_IDS),
    virtualCardId: text(CALLBACK_IDS),
    action: text(CALLBACK_IDS),
    errorCode: z.number({ error: 'errorCode must be a number' }).nullish(),
    // A delivery that is not an object is ignored here (token updates reject it).
    delivery: z.preprocess((d) => (isObject(d) ? d : {}), z.object(deliveryShape)),
    walletProviderId: lenientText,
    /** null omits the field, to test callbacks without one. */
    source: z.string().min(1).nullable().catch('WALLET'),
    tokenInfo: z.unknown().optional(),
    correlationId: lenientText,
    tokenStorageId: lenientText,
    walletCardRefId: lenientText,
  },
  { error: 'each callback must be an object' },
);

export const callbackBatchSchema = z.object({
  callbacks: z.array(z.unknown(), { error: 'callbacks must be an array' }),
  order,
});

/** Which network token, and whose: both `/_sim/network-tokens` and token updates start with these. */
const tokenRefShape = {
  tokenId: z.string({ error: 'tokenId must match ^[a-zA-Z0-9_-]{1,128}$' }).regex(TOKEN_ID, { error: 'tokenId must match ^[a-zA-Z0-9_-]{1,128}$' }),
  merchantId: text('merchantId must be a string').optional(),
};
export const networkTokenSchema = z.object(tokenRefShape);
export const tokenUpdateRefSchema = z.object(tokenRefShape, { error: 'each token update must be an object' });

/** The token fields the simulator relies on; `where` prefixes the field name in messages. */
export function tokenFieldsSchema(where: string) {
  const digits = `${where}tokenLastDigits must be a string of 1–5 digits`;
  const expiry = `${where}tokenExpiryDate must be MMYY`;
  return z.object({
    tokenState: text(`${where}tokenState must be a string`).optional(),
    tokenLastDigits: z
      .string({ error: digits })
      .regex(/^[0-9]{1,5}$/, { error: digits })
      .optional(),
    tokenExpiryDate: z
      .string({ error: expiry })
      .regex(/^(0[1-9]|1[0-2])[0-9]{2}$/, { error: expiry })
      .optional(),
  });
}

/** A token update's `changes`: token fields only, each unknown key an error before any value is checked. */
const changes = z
  .strictObject(Object.fromEntries(TOKEN_FIELDS.map((f) => [f, z.unknown().optional()])), {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `changes.${issue.keys[0]} is not a token field (${TOKEN_FIELDS.join(', ')})` : 'changes must be an object',
  })
  .pipe(tokenFieldsSchema('changes.'));

/** The rest of a token update, after tokenUpdateRefSchema and the merchant check. */
export const tokenUpdateSchema = z.object({
  changes: changes.optional(),
  lastUpdateTimestamp: text('lastUpdateTimestamp must be a string').optional(),
  correlationId: text('correlationId must be a string').optional(),
  delivery: z.preprocess(
    (d) => (d === undefined ? {} : d),
    z.object(
      {
        apiKey: z.enum(['valid', 'wrong', 'missing'], { error: 'delivery.apiKey must be valid, wrong or missing' }).nullish(),
        ...deliveryShape,
      },
      { error: 'delivery must be an object' },
    ),
  ),
});

export const tokenUpdateBatchSchema = z.object({
  updates: z.array(z.unknown(), { error: 'updates must be an array' }),
  order,
});
