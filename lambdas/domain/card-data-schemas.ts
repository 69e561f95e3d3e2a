import * as z from 'zod/mini';

/**
 * Card-data fields as request and JWE-plaintext schemas, in zod/mini like notify-token-update's request (the hot
 * path); classic schemas compose them as well. Apart from lambdas/domain/card-data.ts, which every Lambda loads for
 * log redaction and which needs no zod.
 */

/** A string of `min`–`max` decimal digits (a digit field sent as a JSON number is a contract break, not a number). */
export const cardDigits = (min: number, max: number) =>
  z.string().check(z.regex(new RegExp(`^[0-9]{${min},${max}}$`), `must be a string of ${min}–${max} digits`));

/** An expiry date as MMYY, month 01–12. */
export const mmyy = z.string().check(z.regex(/^(0[1-9]|1[0-2])[0-9]{2}$/, 'must be MMYY with month 01–12'));

/** Fresh payment credentials as D1 Create Transaction encrypts them to us (the JWE plaintext). */
export const paymentCredentials = z.object({
  tokenPan: cardDigits(12, 19),
  tokenExpiryDate: mmyy,
  cryptogram: z.string().check(z.minLength(1), z.maxLength(1024)),
});
