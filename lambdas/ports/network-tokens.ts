import type { NetworkToken } from '../domain/network-token';

export interface PaymentCredentials {
  tokenPan: string;
  tokenExpiryDate: string;
}

export interface NetworkTokenStore {
  /** Strongly consistent. */
  get(tokenId: string): Promise<NetworkToken | null>;
  /**
   * Writes the token if its version is still `expectedVersion` (null = must not exist), removing the sealed
   * credentials in the same write when `dropTokenPan`. One conditional write: an update decided on a stale read
   * fails (CONFLICT) and is decided again, so an older update can never win.
   */
  applyUpdate(token: NetworkToken, expectedVersion: number | null, dropTokenPan: boolean): Promise<'SAVED' | 'CONFLICT'>;
  /** Stores sealed credentials if the token is still at `expectedVersion` and not DELETED; else CONFLICT. */
  storeCredentials(tokenId: string, sealed: string, expectedVersion: number): Promise<'SAVED' | 'CONFLICT'>;
  getSealedCredentials(tokenId: string): Promise<string | null>;
}

/** Envelope encryption of stored credentials, bound to the token id (a sealed blob moved to another token fails). */
export interface CredentialVault {
  seal(credentials: PaymentCredentials, tokenId: string): Promise<string>;
  open(sealed: string, tokenId: string): Promise<PaymentCredentials>;
}

export type CreateTransactionAnswer =
  | { kind: 'created'; transactionId: string; encryptedData: string; eci?: string | undefined; cryptogramExpiryDate?: string | undefined }
  /** D1 said no (4xx), or answered 2xx with a body we cannot use. */
  | { kind: 'rejected'; status: number }
  | { kind: 'unavailable'; reason: 'timeout' | 'network-error' | 'http-5xx' };

/** D1 merchant (COF) API. */
export interface D1CofGateway {
  createTransaction(request: { tokenId: string; transactionType: string; correlationId: string }): Promise<CreateTransactionAnswer>;
}

/** Opens D1's JWE (`encryptedData`) with our private key. */
export interface JweDecrypter {
  decrypt(compact: string): Promise<unknown>;
}
