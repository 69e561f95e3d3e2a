import { randomBytes } from 'node:crypto';
import { EnvelopeCredentialVault, rawAesKeyring } from '../../lambdas/adapters/credential-vault';
import type { PaymentCredentials } from '../../lambdas/ports/network-tokens';

/**
 * Token PAN + expiry encrypted at rest (DESIGN §3 transactions), with the local raw AES-256 keyring: no network.
 * Sealed blobs are bound to their token id; the keyring factory must survive many uses (toolchain §9 trap 6).
 */

const CREDS: PaymentCredentials = { tokenPan: '4895370012345678', tokenExpiryDate: '1228' };
const TOKEN = 't-1';

const keyBytes = randomBytes(32);
const KEY_FORMATS = [
  ['base64', keyBytes.toString('base64')],
  ['64 hex digits', keyBytes.toString('hex')],
  ['64 upper-case hex digits', keyBytes.toString('hex').toUpperCase()],
] as const;

describe.each(KEY_FORMATS)('EnvelopeCredentialVault with a raw AES key as %s', (_format, dataKey) => {
  const vault = new EnvelopeCredentialVault(rawAesKeyring(dataKey));

  it('seal → open round-trips the credentials', async () => {
    const sealed = await vault.seal(CREDS, TOKEN);
    expect(typeof sealed).toBe('string');
    await expect(vault.open(sealed, TOKEN)).resolves.toEqual(CREDS);
  });

  it('the sealed string is base64 and contains neither the PAN nor its base64, in any form', async () => {
    const sealed = await vault.seal(CREDS, TOKEN);
    expect(sealed).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const bytes = Buffer.from(sealed, 'base64');
    const pan = CREDS.tokenPan;
    expect(sealed).not.toContain(pan);
    expect(sealed).not.toContain(Buffer.from(pan).toString('base64'));
    expect(sealed).not.toContain(Buffer.from(pan).toString('base64url'));
    expect(sealed).not.toContain(Buffer.from(pan).toString('hex'));
    expect(bytes.includes(Buffer.from(pan, 'utf8'))).toBe(false);
    expect(bytes.includes(Buffer.from(JSON.stringify(CREDS), 'utf8'))).toBe(false);
    // the key must not travel with the blob either
    expect(bytes.includes(keyBytes)).toBe(false);
  });

  it('a blob sealed for one token does not open for another', async () => {
    const sealed = await vault.seal(CREDS, TOKEN);
    await expect(vault.open(sealed, 't-2')).rejects.toThrow();
    await expect(vault.open(sealed, '')).rejects.toThrow();
    await expect(vault.open(sealed, `${TOKEN} `)).rejects.toThrow();
  });

  it('a blob does not open with another key (in either format)', async () => {
    const sealed = await vault.seal(CREDS, TOKEN);
    const other = randomBytes(32);
    await expect(new EnvelopeCredentialVault(rawAesKeyring(other.toString('base64'))).open(sealed, TOKEN)).rejects.toThrow();
    await expect(new EnvelopeCredentialVault(rawAesKeyring(other.toString('hex'))).open(sealed, TOKEN)).rejects.toThrow();
  });

  it('sealing the same credentials twice gives different ciphertexts, both opening', async () => {
    const [a, b] = await Promise.all([vault.seal(CREDS, TOKEN), vault.seal(CREDS, TOKEN)]);
    expect(a).not.toBe(b);
    await expect(vault.open(a, TOKEN)).resolves.toEqual(CREDS);
    await expect(vault.open(b, TOKEN)).resolves.toEqual(CREDS);
  });

  it('a tampered blob does not open', async () => {
    const bytes = Buffer.from(await vault.seal(CREDS, TOKEN), 'base64');
    const i = bytes.length - 40; // inside the body / footer, past the header
    bytes[i] = bytes[i]! ^ 0x01;
    await expect(vault.open(bytes.toString('base64'), TOKEN)).rejects.toThrow();
  });

  it('one vault instance seals and opens many times, still with the real key (the keyring must not zero a shared key)', async () => {
    // A fresh vault: a keyring that zeroed a shared key would go on "working" with an all-zero key, so every blob
    // is also checked against an independent vault built from the same DATA_KEY, and against the all-zero key.
    const used = new EnvelopeCredentialVault(rawAesKeyring(dataKey));
    const independent = () => new EnvelopeCredentialVault(rawAesKeyring(dataKey));
    const zeroKey = new EnvelopeCredentialVault(rawAesKeyring(Buffer.alloc(32).toString('base64')));
    const creds = (i: number) => ({ tokenPan: `48953700123456${String(i).padStart(2, '0')}`, tokenExpiryDate: '1228' });
    const sealedAll: string[] = [];
    for (let i = 0; i < 10; i++) {
      const sealed = await used.seal(creds(i), `t-${i}`);
      sealedAll.push(sealed);
      await expect(used.open(sealed, `t-${i}`)).resolves.toEqual(creds(i));
    }
    for (let i = 0; i < sealedAll.length; i++) await expect(used.open(sealedAll[i]!, `t-${i}`)).resolves.toEqual(creds(i));
    for (const i of [0, sealedAll.length - 1]) {
      await expect(independent().open(sealedAll[i]!, `t-${i}`)).resolves.toEqual(creds(i));
      await expect(zeroKey.open(sealedAll[i]!, `t-${i}`)).rejects.toThrow();
    }
    await expect(used.open(await independent().seal(creds(99), 't-99'), 't-99')).resolves.toEqual(creds(99));
  });

  it('two vaults built from the same DATA_KEY string open each other’s blobs', async () => {
    const sealed = await vault.seal(CREDS, TOKEN);
    await expect(new EnvelopeCredentialVault(rawAesKeyring(dataKey)).open(sealed, TOKEN)).resolves.toEqual(CREDS);
  });
});

describe('rawAesKeyring key formats', () => {
  it('reads 64 hex digits as hex: the hex and base64 spellings of the same 32 bytes interoperate', async () => {
    const bytes = randomBytes(32);
    const hexVault = new EnvelopeCredentialVault(rawAesKeyring(bytes.toString('hex')));
    const b64Vault = new EnvelopeCredentialVault(rawAesKeyring(bytes.toString('base64')));
    await expect(b64Vault.open(await hexVault.seal(CREDS, TOKEN), TOKEN)).resolves.toEqual(CREDS);
    await expect(hexVault.open(await b64Vault.seal(CREDS, TOKEN), TOKEN)).resolves.toEqual(CREDS);
  });

  it('each factory call gives a working keyring (a fresh copy of the key), however many are built', async () => {
    const factory = rawAesKeyring(randomBytes(32).toString('base64'));
    const a = new EnvelopeCredentialVault(factory);
    const b = new EnvelopeCredentialVault(factory);
    const sealed = await a.seal(CREDS, TOKEN);
    factory(); // build (and discard) extra keyrings
    factory();
    await expect(b.open(sealed, TOKEN)).resolves.toEqual(CREDS);
    await expect(a.open(await b.seal(CREDS, 't-9'), 't-9')).resolves.toEqual(CREDS);
  });
});
