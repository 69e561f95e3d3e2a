import * as z from 'zod';
import { LCM_ACTIONS, OPERATION_STATUSES } from '../domain/operation';
import { operationIdPath } from '../http/params';
import { defineSpec } from '../spec';

export const createOperationHeaders = z.object({ 'idempotency-key': z.string().min(1).max(128).optional() }).meta({ id: 'CreateOperationHeaders' });

export const createOperationBody = z
  .object({
    action: z.enum(LCM_ACTIONS),
    issuerCardRefId: z.string().min(1).max(48),
    /** Present: one token (TOKEN scope). Absent: every token of the card (CARD scope). */
    virtualCardId: z.string().min(1).max(64).optional(),
    reason: z.string().min(1).max(256).optional(),
  })
  .meta({ id: 'CreateOperation' });

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
    /** The caller's IAM identity in AWS; null locally. */
    requestedBy: z.string().nullable(),
    /** The bulk job this operation runs a card of (DESIGN §9), else null. */
    jobId: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Operation' });

export const spec = defineSpec({
  description: "The issuer back office's LCM API: request an operation (queued for D1), read it",
  env: ['TABLE_NAME', 'D1_REQUESTS_QUEUE_URL', 'CONSOLE_AGENT_ROLE_NAME'],
  table: 'readwrite',
  sendsTo: ['d1Requests'],
  routes: {
    createOperation: {
      apis: ['backoffice'],
      method: 'POST',
      path: '/v1/lcm-operations',
      auth: 'iam',
      summary: 'Suspend, resume or delete one token (virtualCardId) or every token of a card',
      request: { headers: createOperationHeaders, body: createOperationBody },
      responses: { 202: operationSchema, 200: operationSchema },
      // 403: a console agent asking for DELETE (CONSOLE_AGENT_ROLE_NAME).
      errors: [400, 403, 409, 413, 415, 422, 503],
    },
    getOperation: {
      apis: ['backoffice'],
      method: 'GET',
      path: '/v1/lcm-operations/{operationId}',
      auth: 'iam',
      summary: 'An operation',
      request: { path: operationIdPath },
      responses: { 200: operationSchema },
      errors: [404],
    },
  },
});
