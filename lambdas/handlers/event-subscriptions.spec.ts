import * as z from 'zod';
import { EVENT_TYPES } from '../domain/events';
import { defineSpec } from '../spec';

/** `https://…` (or `http://` to loopback under npm start: the handler applies that rule and the SSRF guard). */
const webhookUrl = z.url({ protocol: /^https?$/ }).max(2048);

export const createSubscriptionBody = z
  .object({
    url: webhookUrl,
    /** Default (absent): every type. */
    eventTypes: z
      .array(z.enum(EVENT_TYPES))
      .min(1)
      .max(EVENT_TYPES.length * 4)
      .optional(),
    description: z.string().max(256).optional(),
  })
  .meta({ id: 'CreateEventSubscription' });

const subscriptionFields = {
  subscriptionId: z.string(),
  url: z.string(),
  /** Always explicit: the full list when the subscription was created without one. */
  eventTypes: z.array(z.enum(EVENT_TYPES)),
  description: z.string().nullable(),
  createdAt: z.string(),
};

export const subscriptionSchema = z.object(subscriptionFields).meta({ id: 'EventSubscription' });
export const createdSubscriptionSchema = z.object({ ...subscriptionFields, secret: z.string() }).meta({ id: 'CreatedEventSubscription' });
export const subscriptionListSchema = z.object({ subscriptions: z.array(subscriptionSchema) }).meta({ id: 'EventSubscriptionList' });

export const subscriptionIdPath = z.object({ subscriptionId: z.string().min(1).max(64) });

export const replayBody = z
  .object({
    /** An event id: re-send the events logged after it. */
    after: z.string().min(1).max(64).optional(),
    /** An instant: re-send the events logged at or after it. */
    since: z.iso.datetime({ offset: true }).optional(),
  })
  .meta({ id: 'ReplayEvents' });

export const spec = defineSpec({
  description: 'Webhook subscriptions (DESIGN §8): create, list, delete, replay logged events, rotate the signing secret',
  // Secrets are sealed with the same keys as token PANs: the KMS key in AWS, DATA_KEY locally (never both).
  env: ['TABLE_NAME', 'WEBHOOK_DELIVERIES_QUEUE_URL', 'WEBHOOK_ALLOW_LOOPBACK', 'EVENT_RETENTION_DAYS', 'DATA_KEY', 'DATA_KEY_KMS_KEY_ARN'],
  table: 'readwrite',
  sendsTo: ['webhookDeliveries'],
  routes: {
    createSubscription: {
      apis: ['backoffice'],
      method: 'POST',
      path: '/v1/event-subscriptions',
      auth: 'iam',
      summary: 'Subscribe a URL to events (Standard Webhooks); the signing secret is shown only in this answer',
      request: { body: createSubscriptionBody },
      responses: { 201: createdSubscriptionSchema },
      errors: [400, 413, 415, 503],
    },
    listSubscriptions: {
      apis: ['backoffice'],
      method: 'GET',
      path: '/v1/event-subscriptions',
      auth: 'iam',
      summary: 'Every webhook subscription (without secrets)',
      responses: { 200: subscriptionListSchema },
      errors: [],
    },
    deleteSubscription: {
      apis: ['backoffice'],
      method: 'DELETE',
      path: '/v1/event-subscriptions/{subscriptionId}',
      auth: 'iam',
      summary: 'Delete a subscription; its pending deliveries are dropped',
      request: { path: subscriptionIdPath },
      responses: { 204: null },
      errors: [404],
    },
    replayEvents: {
      apis: ['backoffice'],
      method: 'POST',
      path: '/v1/event-subscriptions/{subscriptionId}/replay',
      auth: 'iam',
      summary: 'Re-send to this subscription only the logged events after an event id or since an instant (same ids)',
      request: { path: subscriptionIdPath, body: replayBody },
      responses: { 202: z.object({ replayed: z.number().int() }).meta({ id: 'ReplayResult' }) },
      errors: [400, 404, 413, 415],
    },
    rotateSecret: {
      apis: ['backoffice'],
      method: 'POST',
      path: '/v1/event-subscriptions/{subscriptionId}/rotate-secret',
      auth: 'iam',
      summary: 'A new signing secret; for 24 h deliveries carry both signatures, new and old',
      request: { path: subscriptionIdPath },
      responses: { 200: z.object({ secret: z.string() }).meta({ id: 'RotatedSecret' }) },
      errors: [404],
    },
  },
});
