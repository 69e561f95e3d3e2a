import * as z from 'zod';
import { defineSpec } from '../spec';

export const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

export const spec = defineSpec({
  description: 'Liveness on both APIs; touches no dependency',
  env: [],
  table: 'none',
  sendsTo: [],
  routes: {
    health: {
      apis: ['backoffice', 'webhooks'],
      method: 'GET',
      path: '/health',
      auth: 'none',
      summary: 'Liveness',
      responses: { 200: healthSchema },
      errors: [],
    },
  },
});
