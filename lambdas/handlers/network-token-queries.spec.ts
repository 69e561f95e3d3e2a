import * as z from 'zod';
import { NETWORK_TOKEN_STATES } from '../domain/network-token';
import { tokenIdPath } from '../http/params';
import { defineSpec } from '../spec';

export const networkTokenSchema = z
  .object({
    tokenId: z.string(),
    merchantId: z.string(),
    state: z.enum(NETWORK_TOKEN_STATES).nullable(),
    tokenLastDigits: z.string().nullable(),
    tokenExpiryDate: z.string().nullable(),
    cardLastDigits: z.string().nullable(),
    cardExpiryDate: z.string().nullable(),
    cardBin: z.string().nullable(),
    par: z.string().nullable(),
    cardArt: z.record(z.string(), z.unknown()).nullable(),
    lastUpdateTimestamp: z.string(),
    tokenPanStored: z.boolean(),
    updatedAt: z.string(),
  })
  .meta({ id: 'NetworkToken' });

export const spec = defineSpec({
  description: "A network token's data and whether a PAN is stored, never the PAN",
  env: ['TABLE_NAME'],
  table: 'read',
  sendsTo: [],
  routes: {
    getNetworkToken: {
      apis: ['backoffice'],
      method: 'GET',
      path: '/v1/network-tokens/{tokenId}',
      auth: 'iam',
      summary: 'A network token (never its PAN)',
      request: { path: tokenIdPath },
      responses: { 200: networkTokenSchema },
      errors: [404],
    },
  },
});
