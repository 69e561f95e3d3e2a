import * as z from 'zod';
import { tokenIdPath } from '../http/params';
import { defineSpec } from '../spec';

export const createTransactionBody = z.object({ transactionType: z.string().min(1).max(64) }).meta({ id: 'CreateTransaction' });

export const tokenPanSchema = z.object({ tokenId: z.string(), tokenPan: z.string(), tokenExpiryDate: z.string() }).meta({ id: 'TokenPan' });

export const transactionSchema = z
  .object({
    transactionId: z.string(),
    tokenPan: z.string(),
    tokenExpiryDate: z.string(),
    cryptogram: z.string(),
    eci: z.string().optional(),
    cryptogramExpiryDate: z.string().optional(),
  })
  .meta({ id: 'Transaction' });

export const spec = defineSpec({
  description: 'The PCI-scoped Lambda: opens stored credentials and calls D1 Create Transaction',
  // In AWS stored PANs are sealed under the KMS key only; DATA_KEY is the local stand-in and is never set there.
  env: [
    'TABLE_NAME',
    'D1_COF_BASE_URL',
    'D1_COF_API_KEY',
    'TR_JWE_PRIVATE_KEY',
    'DATA_KEY',
    'DATA_KEY_KMS_KEY_ARN',
    'D1_TIMEOUT_MS',
    'D1_CLIENT_CERT',
    'D1_CLIENT_KEY',
  ],
  table: 'readwrite',
  sendsTo: [],
  memoryMb: 512,
  routes: {
    getTokenPan: {
      apis: ['backoffice'],
      method: 'GET',
      path: '/v1/network-tokens/{tokenId}/token-pan',
      auth: 'iam',
      summary: 'Stored credentials for merchant-initiated payments (separate permission, audit-logged)',
      request: { path: tokenIdPath },
      responses: { 200: tokenPanSchema },
      errors: [404],
    },
    createTransaction: {
      apis: ['backoffice'],
      method: 'POST',
      path: '/v1/network-tokens/{tokenId}/transactions',
      auth: 'iam',
      summary: 'D1 Create Transaction: fresh token PAN and cryptogram',
      request: { path: tokenIdPath, body: createTransactionBody },
      responses: { 201: transactionSchema },
      errors: [400, 404, 409, 413, 415, 502, 503],
    },
  },
});
