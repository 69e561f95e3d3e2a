import * as z from 'zod';
import { CHANGE_SOURCES, DEVICE_FIELD_MAX, TOKEN_STATES } from '../domain/token';
import { issuerCardRefIdPath, pageQuery, virtualCardIdPath } from '../http/params';
import { defineSpec } from '../spec';

export const tokenSchema = z
  .object({
    virtualCardId: z.string(),
    issuerCardRefId: z.string(),
    walletProviderId: z.string().nullable(),
    tokenStorageId: z.string().nullable().describe('The secure element or wallet instance holding the token, from the last applied callback that carried it'),
    walletCardRefId: z.string().nullable().describe("The wallet's card id (Apple Pay: FPANID), from the last applied callback that carried it"),
    device: z
      .object({
        manufacturer: z.string().max(DEVICE_FIELD_MAX).nullable(),
        model: z.string().max(DEVICE_FIELD_MAX).nullable(),
        deviceName: z.string().max(DEVICE_FIELD_MAX).nullable(),
      })
      .nullable()
      .describe("The device, from D1 getCardInfo's deviceInformation at the last reconciliation; never its identifiers (IMEI, phone number, serial)"),
    state: z.enum(TOKEN_STATES),
    lastAction: z.string().nullable(),
    lastChangeSource: z.enum(CHANGE_SOURCES).nullable(),
    lastOperationId: z.string().nullable(),
    renewals: z.number().int(),
    lastRenewedAt: z.string().nullable(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Token' });

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
        requestedBy: z
          .string()
          .nullable()
          .describe('Who asked for the operation of ours behind the event (its requestedBy); null for changes we did not start'),
        errorCode: z.number().int().nullable(),
        outcome: z.enum(['APPLIED', 'SUPERSEDED', 'FAILED', 'IGNORED']),
        stateAfter: z.enum(TOKEN_STATES).nullable(),
      }),
    ),
    nextToken: z.string().nullable(),
  })
  .meta({ id: 'TokenHistory' });

export const spec = defineSpec({
  description: "The back office's token reads (one Lambda: they share the store and their cold start)",
  env: ['TABLE_NAME'],
  table: 'read',
  sendsTo: [],
  routes: {
    getToken: {
      apis: ['backoffice'],
      method: 'GET',
      path: '/v1/tokens/{virtualCardId}',
      auth: 'iam',
      summary: 'A token',
      request: { path: virtualCardIdPath },
      responses: { 200: tokenSchema },
      errors: [404],
    },
    getTokenHistory: {
      apis: ['backoffice'],
      method: 'GET',
      path: '/v1/tokens/{virtualCardId}/history',
      auth: 'iam',
      summary: "A token's audit trail, oldest first",
      request: { path: virtualCardIdPath, query: pageQuery },
      responses: { 200: historySchema },
      errors: [400, 404],
    },
    listCardTokens: {
      apis: ['backoffice'],
      method: 'GET',
      path: '/v1/cards/{issuerCardRefId}/tokens',
      auth: 'iam',
      summary: "A card's tokens, DELETED included",
      request: { path: issuerCardRefIdPath, query: pageQuery },
      responses: { 200: cardTokensSchema },
      errors: [400],
    },
  },
});
