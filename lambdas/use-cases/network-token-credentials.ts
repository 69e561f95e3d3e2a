import { randomUUID } from 'node:crypto';
import { DomainError, notFound } from '../domain/errors';
import { networkTokenView } from '../domain/network-token';
import { paymentCredentials } from '../domain/card-data-schemas';
import type { CredentialVault, D1CofGateway, JweDecrypter, NetworkTokenStore, PaymentCredentials } from '../ports/network-tokens';

export interface CredentialDeps {
  store: NetworkTokenStore;
  vault: CredentialVault;
  cof: D1CofGateway;
  jwe: JweDecrypter;
  newCorrelationId?: () => string;
}

export interface TransactionResult {
  transactionId: string;
  tokenPan: string;
  tokenExpiryDate: string;
  cryptogram: string;
  eci?: string | undefined;
  cryptogramExpiryDate?: string | undefined;
  /** Whether the credentials were stored (not when the token changed meanwhile: a dropped PAN stays dropped). */
  stored: boolean;
}

export async function readNetworkToken(deps: Pick<CredentialDeps, 'store'>, tokenId: string): Promise<ReturnType<typeof networkTokenView>> {
  const token = await deps.store.get(tokenId);
  if (!token) throw notFound('network token');
  return networkTokenView(token);
}

/** The stored credentials for merchant-initiated payments; 404 when the token is unknown or none are stored. */
export async function readTokenPan(deps: Pick<CredentialDeps, 'store' | 'vault'>, tokenId: string): Promise<PaymentCredentials> {
  const sealed = await deps.store.getSealedCredentials(tokenId);
  if (!sealed) throw notFound('stored token PAN');
  return deps.vault.open(sealed, tokenId);
}

/**
 * `POST /v1/network-tokens/{tokenId}/transactions`: D1 Create Transaction, open its JWE, store token PAN + expiry
 * sealed (never the cryptogram), return all of it to the caller.
 *
 * Nothing is stored unless every step succeeded. The store is conditional on the token version read before the
 * call (and on the PAN ending with the token's known last digits), so an update that arrived meanwhile — new last
 * digits, DELETED — is not undone by a PAN fetched before it.
 */
export async function createTransaction(deps: CredentialDeps, tokenId: string, transactionType: string): Promise<TransactionResult> {
  const token = await deps.store.get(tokenId);
  if (!token) throw notFound('network token');
  if (token.state === 'DELETED') throw new DomainError('TOKEN_DELETED', 'the network token is deleted');

  const answer = await deps.cof.createTransaction({ tokenId, transactionType, correlationId: (deps.newCorrelationId ?? randomUUID)() });
  if (answer.kind === 'unavailable') throw new DomainError('UNAVAILABLE', 'D1 is unavailable');
  if (answer.kind === 'rejected') throw new DomainError('UPSTREAM_ERROR', `D1 rejected the transaction (HTTP ${answer.status})`);

  let credentials: { tokenPan: string; tokenExpiryDate: string; cryptogram: string };
  try {
    credentials = paymentCredentials.parse(await deps.jwe.decrypt(answer.encryptedData));
  } catch {
    throw new DomainError('UPSTREAM_ERROR', 'D1 sent encryptedData we cannot open');
  }

  const matchesToken = token.tokenLastDigits === null || credentials.tokenPan.endsWith(token.tokenLastDigits);
  const stored =
    matchesToken &&
    (await deps.store.storeCredentials(
      tokenId,
      await deps.vault.seal({ tokenPan: credentials.tokenPan, tokenExpiryDate: credentials.tokenExpiryDate }, tokenId),
      token.version,
    )) === 'SAVED';
  return {
    transactionId: answer.transactionId,
    tokenPan: credentials.tokenPan,
    tokenExpiryDate: credentials.tokenExpiryDate,
    cryptogram: credentials.cryptogram,
    ...(answer.eci !== undefined ? { eci: answer.eci } : {}),
    ...(answer.cryptogramExpiryDate !== undefined ? { cryptogramExpiryDate: answer.cryptogramExpiryDate } : {}),
    stored,
  };
}
