import * as z from 'zod';
import { defineSpec } from '../spec';

export const spec = defineSpec({
  description: 'The OpenAPI 3.1 document of every route, generated from the handler specs',
  env: [],
  table: 'none',
  sendsTo: [],
  routes: {
    openapi: {
      apis: ['backoffice'],
      method: 'GET',
      path: '/openapi.json',
      auth: 'iam',
      summary: 'This document',
      // Documented as an object: describing OpenAPI in OpenAPI would only repeat the standard.
      responses: { 200: z.record(z.string(), z.unknown()).meta({ id: 'OpenApiDocument' }) },
      errors: [],
    },
  },
});
