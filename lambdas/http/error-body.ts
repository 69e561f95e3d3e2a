import * as z from 'zod';
import { ERROR_CODES } from './errors';

/** The DESIGN §3 error body as a schema, for the OpenAPI document (the handlers build it from ApiError). */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
      fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorBodySchema>;
