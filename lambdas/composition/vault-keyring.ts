import type { KeyringNode } from '@aws-crypto/client-node';
import { kmsKeyring, rawAesKeyring } from '../adapters/credential-vault';
import { ConfigError } from '../config/env';

/**
 * The vault's keyring, as for token PANs: the KMS key in AWS (DATA_KEY_KMS_KEY_ARN), the raw AES-256 DATA_KEY
 * where no KMS key is configured (locally). Neither set is a configuration error naming DATA_KEY.
 */
export function vaultKeyring(env: { DATA_KEY?: string | undefined; DATA_KEY_KMS_KEY_ARN?: string | undefined }): () => KeyringNode {
  if (env.DATA_KEY_KMS_KEY_ARN) return kmsKeyring(env.DATA_KEY_KMS_KEY_ARN);
  if (env.DATA_KEY === undefined) throw new ConfigError(['DATA_KEY'], 'DATA_KEY: required when DATA_KEY_KMS_KEY_ARN is unset');
  return rawAesKeyring(env.DATA_KEY);
}
