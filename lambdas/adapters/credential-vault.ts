import { buildClient, CommitmentPolicy, KmsKeyringNode, RawAesKeyringNode, RawAesWrappingSuiteIdentifier, type KeyringNode } from '@aws-crypto/client-node';
import type { CredentialVault, PaymentCredentials } from '../ports/network-tokens';

const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const PURPOSE = 'network-token-credentials';

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
