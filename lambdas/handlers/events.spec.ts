import * as z from 'zod';
import { EVENT_TYPES } from '../domain/events';
import { pageQuery } from '../http/params';
import { defineSpec } from '../spec';

export const eventSchema = z
  .object({
    id: z.string(),
    type: z.enum(EVENT_TYPES),
    timestamp: z.string(),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Event' });

export const eventPageSchema = z.object({ events: z.array(eventSchema), nextToken: z.string().nullable() }).meta({ id: 'EventPage' });

/** `limit` and `nextToken` as on every list route, plus where to start and which type. */
export const eventLogQuery = pageQuery.extend({
  after: z.string().min(1).max(64).optional(),
  type: z.enum(EVENT_TYPES).optional(),
});

export const spec = defineSpec({
  description: 'The event log (DESIGN §8): every event published, oldest first, kept EVENT_RETENTION_DAYS',
  env: ['TABLE_NAME', 'EVENT_RETENTION_DAYS'],
  table: 'read',
  sendsTo: [],
  routes: {
    listEvents: {
      apis: ['backoffice'],
      method: 'GET',
      path: '/v1/events',
      auth: 'iam',
      summary: 'The event log, oldest first (for consumers that cannot receive webhooks, and for catching up)',
      request: { query: eventLogQuery },
      responses: { 200: eventPageSchema },
      errors: [400],
    },
  },
});
