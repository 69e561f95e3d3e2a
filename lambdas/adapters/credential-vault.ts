import { buildClient, CommitmentPolicy, KmsKeyringNode, RawAesKeyringNode, RawAesWrappingSuiteIdentifier, type KeyringNode } from '@aws-crypto/client-node';
import type { CredentialVault, PaymentCredentials } from '../ports/network-tokens';
import type { SecretVault } from '../ports/subscriptions';

const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const PURPOSE = 'network-token-credentials';
const WEBHOOK_SECRET_PURPOSE = 'webhook-secret';

/**
 * Token PAN + expiry at rest: AWS Encryption SDK envelope encryption, with the token id in the encryption context
 * so a sealed blob copied onto another token does not open. In AWS the keyring is KMS; locally a raw AES-256 key.
 */
export class EnvelopeCredentialVault implements CredentialVault {
  /** A factory, not an instance: RawAesKeyringNode zeroes the key it was given (toolchain §9 trap 6). */
  constructor(private readonly keyring: () => KeyringNode) {}

  async seal(credentials: PaymentCredentials, tokenId: string): Promise<string> {
    const { result } = await encrypt(this.keyring(), JSON.stringify(credentials), { encryptionContext: { tokenId, purpose: PURPOSE } });
    return Buffer.from(result).toString('base64');
  }

  async open(sealed: string, tokenId: string): Promise<PaymentCredentials> {
    const { plaintext, messageHeader } = await decrypt(this.keyring(), Buffer.from(sealed, 'base64'));
    if (messageHeader.encryptionContext.tokenId !== tokenId || messageHeader.encryptionContext.purpose !== PURPOSE) {
      throw new Error('sealed credentials belong to another token');
    }
    return JSON.parse(Buffer.from(plaintext).toString('utf8')) as PaymentCredentials;
  }
}

/** DATA_KEY: 32 bytes as 64 hex digits or base64. */
export function rawAesKeyring(dataKey: string): () => KeyringNode {
  const bytes = /^[0-9a-fA-F]{64}$/.test(dataKey) ? Buffer.from(dataKey, 'hex') : Buffer.from(dataKey, 'base64');
  return () =>
    new RawAesKeyringNode({
      keyName: 'data-key',
      keyNamespace: 'token-lifecycle',
      // A fresh isolated copy each time: the keyring zeroes it and rejects pooled Buffers.
      unencryptedMasterKey: new Uint8Array(bytes),
      wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
    });
}

export function kmsKeyring(keyArn: string): () => KeyringNode {
  const keyring = new KmsKeyringNode({ generatorKeyId: keyArn });
  return () => keyring;
}

/** Opened webhook secrets kept per sealed blob (a rotation seals a new one): a delivery does not call KMS each time. */
const OPENED_CACHE_SIZE = 500;

/**
 * Webhook signing secrets at rest, in the same vault as token PANs: the same SDK, keyrings and keys, with the
 * subscription id and `purpose: webhook-secret` in the encryption context, so neither kind of blob opens as the
 * other and a sealed secret copied onto another subscription does not open.
 */
export class EnvelopeSecretVault implements SecretVault {
  private readonly opened = new Map<string, string>();

  constructor(private readonly keyring: () => KeyringNode) {}

  async seal(secret: string, subscriptionId: string): Promise<string> {
    const { result } = await encrypt(this.keyring(), secret, { encryptionContext: { subscriptionId, purpose: WEBHOOK_SECRET_PURPOSE } });
    return Buffer.from(result).toString('base64');
  }

  async open(sealed: string, subscriptionId: string): Promise<string> {
    const key = `${subscriptionId}\n${sealed}`;
    const cached = this.opened.get(key);
    if (cached !== undefined) return cached;
    const { plaintext, messageHeader } = await decrypt(this.keyring(), Buffer.from(sealed, 'base64'));
    if (messageHeader.encryptionContext.subscriptionId !== subscriptionId || messageHeader.encryptionContext.purpose !== WEBHOOK_SECRET_PURPOSE) {
      throw new Error('sealed secret belongs to another subscription');
    }
    const secret = Buffer.from(plaintext).toString('utf8');
    if (this.opened.size >= OPENED_CACHE_SIZE) this.opened.delete(this.opened.keys().next().value!);
    this.opened.set(key, secret);
    return secret;
  }
}
