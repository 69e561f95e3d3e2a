import * as z from 'zod';

/** Path parameters and query parameters shared by several routes. */

export const virtualCardIdPath = z.object({ virtualCardId: z.string().min(1).max(64) });
export const issuerCardRefIdPath = z.object({ issuerCardRefId: z.string().min(1).max(48) });
export const operationIdPath = z.object({ operationId: z.string().min(1).max(64) });
export const tokenIdPath = z.object({ tokenId: z.string().min(1).max(128) });
export const jobIdPath = z.object({ jobId: z.string().min(1).max(64) });

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

/** List routes: `limit` (1–100, default 100) and `nextToken`. */
export const pageQuery = z.object({
  limit: pageLimit.default(100),
  nextToken: pageToken.optional(),
});
export type PageQuery = z.infer<typeof pageQuery>;
