import { randomUUID } from 'node:crypto';
import { D1CofClient } from '../adapters/d1-cof-client';
import { d1ClientTls, d1Fetch } from '../adapters/d1-transport';
import { documentClient } from '../adapters/dynamodb-client';
import { DynamoDbNetworkTokenStore } from '../adapters/dynamodb-network-token-store';
import { EnvelopeCredentialVault, kmsKeyring, rawAesKeyring } from '../adapters/credential-vault';
import { JoseJweDecrypter } from '../adapters/jwe-decrypter';
import { ConfigError } from '../config/env';
import { defineHandler } from '../http/define-routes';
import type { HttpEvent } from '../http/route';
import { logger, metrics, MetricUnit } from '../observability';
import { createTransaction, readTokenPan } from '../use-cases/network-token-credentials';
import { spec } from './network-token-credentials.spec';
import { traceClient } from '../tracing';
import { secretsManagerFetcher } from '../config/secrets-manager';

/** The raw key is the local stand-in for the KMS key: required only where no KMS key is configured. */
function requireDataKey(dataKey: string | undefined): string {
  if (dataKey === undefined) throw new ConfigError(['DATA_KEY'], 'DATA_KEY: required when DATA_KEY_KMS_KEY_ARN is unset');
  return dataKey;
}

/** Who asked, for the audit trail: the SigV4 caller in AWS, the source address locally. Never card data. */
function caller(event: HttpEvent): string {
  const authorizer = (event.requestContext as { authorizer?: { iam?: { userArn?: string } } }).authorizer;
  return authorizer?.iam?.userArn ?? event.requestContext.http.sourceIp;
}

/**
 * The PCI-scoped Lambda: the only one that can open stored credentials (its own IAM permission in AWS) and call
 * D1 Create Transaction. PANs and cryptograms go to the caller and nowhere else — not to logs, not to metrics.
 */
export const handler = defineHandler(
  spec,
  (env) => ({
    store: new DynamoDbNetworkTokenStore(documentClient(traceClient), env.TABLE_NAME),
    vault: new EnvelopeCredentialVault(env.DATA_KEY_KMS_KEY_ARN ? kmsKeyring(env.DATA_KEY_KMS_KEY_ARN) : rawAesKeyring(requireDataKey(env.DATA_KEY))),
    cof: new D1CofClient({ baseUrl: env.D1_COF_BASE_URL, apiKey: env.D1_COF_API_KEY, timeoutMs: env.D1_TIMEOUT_MS, fetch: d1Fetch(d1ClientTls(env)) }),
    jwe: new JoseJweDecrypter(env.TR_JWE_PRIVATE_KEY),
    newCorrelationId: randomUUID,
  }),
  {
    getTokenPan: {
      handle: async ({ path, event }, deps) => {
        const requestId = event.requestContext.requestId;
        try {
          const credentials = await readTokenPan(deps, path.tokenId);
          logger.info('token PAN read', { audit: true, tokenId: path.tokenId, caller: caller(event), requestId, found: true });
          metrics.addMetric('TokenPanReads', MetricUnit.Count, 1);
          return { status: 200, body: { tokenId: path.tokenId, tokenPan: credentials.tokenPan, tokenExpiryDate: credentials.tokenExpiryDate } };
        } catch (err) {
          logger.info('token PAN read', { audit: true, tokenId: path.tokenId, caller: caller(event), requestId, found: false });
          throw err;
        }
      },
    },
    createTransaction: {
      handle: async ({ path, body, event }, deps) => {
        const result = await createTransaction(deps, path.tokenId, body.transactionType);
        metrics.addMetric('TransactionsCreated', MetricUnit.Count, 1);
        logger.info('transaction created', {
          audit: true,
          tokenId: path.tokenId,
          transactionId: result.transactionId,
          caller: caller(event),
          credentialsStored: result.stored,
        });
        const { stored: _stored, ...response } = result;
        return { status: 201, body: response };
      },
    },
  },
  { fetchSecret: secretsManagerFetcher() },
);
