import * as jose from 'jose';
import type { JweDecrypter } from '../ports/network-tokens';

/** A PEM from an env var or a secret may carry `\n` escapes instead of newlines. */
export const normalizePem = (pem: string): string => pem.replace(/\\n/g, '\n').trim();

/** D1 encrypts `encryptedData` to our RSA key: JWE compact, RSA-OAEP-256 / A256GCM — nothing else is accepted. */
export class JoseJweDecrypter implements JweDecrypter {
  private key: ReturnType<typeof jose.importPKCS8> | undefined;

  constructor(private readonly privateKeyPem: string) {}

  async decrypt(compact: string): Promise<unknown> {
    this.key ??= jose.importPKCS8(normalizePem(this.privateKeyPem), 'RSA-OAEP-256');
    const { plaintext } = await jose.compactDecrypt(compact, await this.key, {
      keyManagementAlgorithms: ['RSA-OAEP-256'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    return JSON.parse(new TextDecoder().decode(plaintext));
  }
}
