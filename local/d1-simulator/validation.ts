/**
 * Control-API input checking with zod. Each schema carries the message the simulator answers, and the first issue
 * wins, so schema keys are listed in the order the fields are checked.
 */
import * as z from 'zod';

/** Bad control-API input: 400 VALIDATION_FAILED with this message. */
export class BadRequest extends Error {}

/** A non-empty string. */
export const text = (error: string) => z.string({ error }).min(1, { error });

/** A whole number >= min; no upper bound, so any JSON integer the simulator can count with is accepted. */
export const count = (field: string, min = 0) => {
  const error = `${field} must be an integer >= ${min}`;
  return z.number({ error }).refine((v) => Number.isInteger(v) && v >= min, { error });
};

export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new BadRequest(result.error.issues[0]?.message ?? 'invalid input');
  return result.data;
}
