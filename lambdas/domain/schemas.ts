import * as z from 'zod';
import { LCM_ACTIONS, OPERATION_STATUSES } from './operation';
import { CHANGE_SOURCES, TOKEN_STATES } from './token';

/**
 * The request and message schemas of the issuer side, in one place: the handlers validate with them, the
 * consumers re-validate queue messages with them, and the OpenAPI document is generated from them.
 * Unknown fields are stripped (D1 may add fields). Optional fields accept `null` as "absent".
 */

const optionalString = (max: number) => z.string().min(1).max(max).nullish();

export const notifyVirtualCardChangeHeaders = z
  .object({
    'x-correlation-id': z.string().min(1).max(64),
    'x-issuer-id': z.string().length(10),
  })
  .meta({ id: 'NotifyVirtualCardChangeHeaders' });

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

export type NotifyVirtualCardChangeBody = z.infer<typeof notifyVirtualCardChangeBody>;

/** The queue message the webhook writes and the apply consumer reads (a VirtualCardChange). */
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

export const tokenSchema = z
  .object({
    virtualCardId: z.string(),
    issuerCardRefId: z.string(),
    walletProviderId: z.string().nullable(),
    state: z.enum(TOKEN_STATES),
    lastAction: z.string().nullable(),
    lastChangeSource: z.enum(CHANGE_SOURCES).nullable(),
    lastOperationId: z.string().nullable(),
    renewals: z.number().int(),
    lastRenewedAt: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Token' });

/** Plain decimal digits only: `1e2` or `0x10` are not a page size anyone meant. */
const pageLimit = z
  .string()
  .regex(/^[0-9]{1,3}$/, 'must be an integer from 1 to 100')
  .transform(Number)
  .pipe(z.number().int().min(1).max(100))
  // A query value is text; the document shows what it means.
  .meta({ type: 'integer', minimum: 1, maximum: 100, default: 100 });

/** The shape of a page token we issue (base64url JSON of non-empty strings); whose page it is, the store checks. */
const pageToken = z
  .string()
  .min(1)
  .max(2048)
  .refine((token) => {
    try {
      const key: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      return typeof key === 'object' && key !== null && !Array.isArray(key) && Object.values(key).every((v) => typeof v === 'string' && v !== '');
    } catch {
      return false;
    }
  }, 'nextToken is not valid');

export const pageQuery = z.object({
  limit: pageLimit.default(100),
  nextToken: pageToken.optional(),
});
export type PageQuery = z.infer<typeof pageQuery>;

export const virtualCardIdPath = z.object({ virtualCardId: z.string().min(1).max(64) });
export const issuerCardRefIdPath = z.object({ issuerCardRefId: z.string().min(1).max(48) });

// ---------------------------------------------------------------------------------------------------------
// LCM API (issuer back office)

export const createOperationHeaders = z
  .object({ 'idempotency-key': z.string().min(1).max(128).optional() })
  .meta({ id: 'CreateOperationHeaders' });

export const createOperationBody = z
  .object({
    action: z.enum(LCM_ACTIONS),
    issuerCardRefId: z.string().min(1).max(48),
    /** Present: one token (TOKEN scope). Absent: every token of the card (CARD scope). */
    virtualCardId: z.string().min(1).max(64).optional(),
    reason: z.string().min(1).max(256).optional(),
  })
  .meta({ id: 'CreateOperation' });

export const operationIdPath = z.object({ operationId: z.string().min(1).max(64) });

export const operationSchema = z
  .object({
    operationId: z.string(),
    correlationId: z.string(),
    action: z.enum(LCM_ACTIONS),
    scope: z.enum(['TOKEN', 'CARD']),
    issuerCardRefId: z.string(),
    virtualCardId: z.string().nullable(),
    status: z.enum(OPERATION_STATUSES),
    submitAttempts: z.number().int(),
    failure: z
      .object({
        reason: z.enum(['D1_REJECTED', 'D1_UNAVAILABLE', 'CALLBACK_ERROR']),
        responseCode: z.number().int().optional(),
        errorCode: z.number().int().optional(),
      })
      .nullable(),
    tokens: z.array(
      z.object({
        virtualCardId: z.string(),
        outcome: z.enum(['SUCCEEDED', 'FAILED', 'SUPERSEDED']),
        errorCode: z.number().int().optional(),
        at: z.string(),
      }),
    ),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Operation' });

/** The d1-requests queue message: one attempt of one operation. */
export const submissionMessage = z.object({ operationId: z.string().min(1), attempt: z.number().int().min(1) });

// ---------------------------------------------------------------------------------------------------------
// Token-requestor side (merchant / PSP)

const digits = (min: number, max: number) => z.string().regex(new RegExp(`^[0-9]{${min},${max}}$`), `must be a string of ${min}–${max} digits`);
const mmyy = z.string().regex(/^(0[1-9]|1[0-2])[0-9]{2}$/, 'must be MMYY with month 01–12');
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
  .object({ 'x-correlation-id': z.string().min(1).max(64) })
  .meta({ id: 'NotifyTokenUpdateHeaders' });

/** Optional fields accept null as absent: "absent fields keep their value" (rule 10). */
export const notifyTokenUpdateBody = z
  .object({
    tokenId: z.string().min(1).max(128),
    merchantId: z.string().min(1).max(128),
    lastUpdateTimestamp: z.iso.datetime({ offset: true }),
    tokenState: z.enum(['ACTIVE', 'SUSPENDED', 'DELETED']).nullish(),
    tokenLastDigits: digits(1, 5).nullish(),
    tokenExpiryDate: mmyy.nullish(),
    cardLastDigits: digits(1, 5).nullish(),
    cardExpiryDate: mmyy.nullish(),
    cardBin: digits(6, 8).nullish(),
    par: z.string().min(1).max(29).nullish(),
    /** Stored opaque (as its JSON text): any JSON object up to 8 KiB and 32 levels. */
    cardArt: z
      .record(z.string(), z.unknown())
      .superRefine((art, ctx) => {
        if (!depthWithin(art, MAX_CARD_ART_DEPTH)) ctx.addIssue({ code: 'custom', message: `must nest at most ${MAX_CARD_ART_DEPTH} levels` });
        else if (Buffer.byteLength(JSON.stringify(art)) > MAX_CARD_ART_BYTES) ctx.addIssue({ code: 'custom', message: 'must be at most 8 KiB serialised' });
      })
      .nullish(),
  })
  .meta({ id: 'NotifyTokenUpdate' });
export type NotifyTokenUpdateBody = z.infer<typeof notifyTokenUpdateBody>;

/** The token-updates queue message (a TokenUpdate). */
export const tokenUpdateMessage = z.object({
  tokenId: z.string().min(1),
  merchantId: z.string().min(1),
  lastUpdateTimestamp: z.number().int(),
  tokenState: z.enum(['ACTIVE', 'SUSPENDED', 'DELETED']).optional(),
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

export const tokenIdPath = z.object({ tokenId: z.string().min(1).max(128) });

export const createTransactionBody = z.object({ transactionType: z.string().min(1).max(64) }).meta({ id: 'CreateTransaction' });

export const networkTokenSchema = z
  .object({
    tokenId: z.string(),
    merchantId: z.string(),
    state: z.enum(['ACTIVE', 'SUSPENDED', 'DELETED']).nullable(),
    tokenLastDigits: z.string().nullable(),
    tokenExpiryDate: z.string().nullable(),
    cardLastDigits: z.string().nullable(),
    cardExpiryDate: z.string().nullable(),
    cardBin: z.string().nullable(),
    par: z.string().nullable(),
    cardArt: z.record(z.string(), z.unknown()).nullable(),
    lastUpdateTimestamp: z.string(),
    tokenPanStored: z.boolean(),
    updatedAt: z.string(),
  })
  .meta({ id: 'NetworkToken' });

/** What D1 Create Transaction encrypts to us (JWE plaintext). */
export const transactionCredentials = z.object({
  tokenPan: digits(12, 19),
  tokenExpiryDate: mmyy,
  cryptogram: z.string().min(1).max(1024),
});

/** D1 Create Transaction 201 body. */
export const createTransactionResponse = z.object({
  transactionId: z.string().min(1),
  encryptedData: z.string().min(1),
  eci: z.string().optional(),
  cryptogramExpiryDate: z.string().optional(),
});

// ---------------------------------------------------------------------------------------------------------
// Responses that only the OpenAPI document needs as schemas (the handlers build them from domain views)

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum([
        'VALIDATION_FAILED',
        'UNAUTHORIZED',
        'FORBIDDEN',
        'NOT_FOUND',
        'TOKEN_DELETED',
        'UNSUPPORTED_MEDIA_TYPE',
        'PAYLOAD_TOO_LARGE',
        'IDEMPOTENCY_KEY_REUSED',
        'METHOD_NOT_ALLOWED',
        'INTERNAL',
        'UPSTREAM_ERROR',
        'UNAVAILABLE',
      ]),
      message: z.string(),
      fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

export const cardTokensSchema = z
  .object({ issuerCardRefId: z.string(), tokens: z.array(tokenSchema), nextToken: z.string().nullable() })
  .meta({ id: 'CardTokens' });

export const historySchema = z
  .object({
    virtualCardId: z.string(),
    events: z.array(
      z.object({
        at: z.string(),
        action: z.string(),
        source: z.enum(CHANGE_SOURCES),
        correlationId: z.string(),
        operationId: z.string().nullable(),
        errorCode: z.number().int().nullable(),
        outcome: z.enum(['APPLIED', 'SUPERSEDED', 'FAILED', 'IGNORED']),
        stateAfter: z.enum(TOKEN_STATES).nullable(),
      }),
    ),
    nextToken: z.string().nullable(),
  })
  .meta({ id: 'TokenHistory' });

export const reconcileResultSchema = z
  .object({
    issuerCardRefId: z.string(),
    corrected: z.array(z.object({ virtualCardId: z.string(), from: z.enum(TOKEN_STATES).nullable(), to: z.enum(TOKEN_STATES) })),
    settledOperations: z.array(z.string()),
  })
  .meta({ id: 'ReconcileResult' });

export const tokenPanSchema = z.object({ tokenId: z.string(), tokenPan: z.string(), tokenExpiryDate: z.string() }).meta({ id: 'TokenPan' });

export const transactionSchema = z
  .object({
    transactionId: z.string(),
    tokenPan: z.string(),
    tokenExpiryDate: z.string(),
    cryptogram: z.string(),
    eci: z.string().optional(),
    cryptogramExpiryDate: z.string().optional(),
  })
  .meta({ id: 'Transaction' });
