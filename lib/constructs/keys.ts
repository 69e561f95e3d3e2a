import { RemovalPolicy } from 'aws-cdk-lib';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { EnvKey } from '../../lambdas/config/env';

interface KeySpec {
  id: string;
  alias: string;
  description: string;
}

/**
 * Customer-managed KMS keys, by the env var that carries the key's ARN to a Lambda (lambdas/config/env.ts).
 * A handler whose `HANDLERS[name].env` lists the variable gets the ARN and may use that key; no other may.
 */
const KEYS = {
  DATA_KEY_KMS_KEY_ARN: {
    id: 'TokenPanKey',
    alias: 'alias/token-lifecycle/token-pan',
    description:
      'token-lifecycle: wraps the AWS Encryption SDK data keys that seal what is stored sealed (network-token PANs, webhook subscription secrets); ' +
      'usable only by the Lambdas whose env lists DATA_KEY_KMS_KEY_ARN',
  },
} as const satisfies Partial<Record<EnvKey, KeySpec>>;

export type KeyEnvVar = keyof typeof KEYS;
export const KEY_ENV_VARS = Object.keys(KEYS) as KeyEnvVar[];

/**
 * What a key user may call, and nothing more: the AWS Encryption SDK's KMS keyring calls GenerateDataKey to seal
 * and Decrypt to open; Encrypt is only needed when a multi-keyring wraps the same data key under a second KMS key.
 * Not `key.grantEncryptDecrypt`: it adds kms:ReEncrypt* and kms:GenerateDataKey* (wildcards, and more than needed).
 */
export const KEY_USER_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'] as const;

/**
 * The service's KMS keys. Yearly automatic rotation (old key material stays available for decryption, so sealed
 * PANs stay readable); RETAIN, like the table whose data they protect: deleting the key would make every stored
 * PAN unreadable. The key policy is CDK's default (the account's IAM decides), so only the role policies that
 * lib/constructs/functions.ts writes grant its use.
 */
export class Keys extends Construct {
  readonly byEnvVar: Record<KeyEnvVar, IKey>;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const entries = KEY_ENV_VARS.map((envVar): [KeyEnvVar, IKey] => {
      const spec: KeySpec = KEYS[envVar];
      const key = new Key(this, spec.id, {
        description: spec.description,
        alias: spec.alias,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      return [envVar, key];
    });
    this.byEnvVar = Object.fromEntries(entries) as Record<KeyEnvVar, IKey>;
  }
}
