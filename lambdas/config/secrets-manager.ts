import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SecretFetcher } from './secrets';

/**
 * GetSecretValue; the client is created on first use. Given to `defineHandler` only by the handlers whose spec
 * declares secret-valued env, so only their bundles carry the Secrets Manager client.
 */
export function secretsManagerFetcher(): SecretFetcher {
  let client: SecretsManagerClient | undefined;
  return async (secretId) => {
    client ??= new SecretsManagerClient({});
    const result = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (result.SecretString === undefined) throw new Error(`secret ${secretId} has no string value`);
    return result.SecretString;
  };
}
