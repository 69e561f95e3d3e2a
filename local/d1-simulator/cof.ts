/**
 * Merchant (COF) side: Create Transaction (d1-api.md §2.5, §4.2). `authorization: APIKEY`, a token of the network-
 * token model → 201 with a JWE (RSA-OAEP-256 / A256GCM) to our public key holding `{ tokenPan, tokenExpiryDate,
 * cryptogram }`. The token PAN exists only inside that JWE.
 */
import { createHash, createPublicKey, randomBytes, randomUUID, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as jose from 'jose';
import type { Faults } from './faults';
import { header, isObject, isText, methodNotAllowed, serveRecorded, type Answer, type Log, type RequestRecord } from './http';
import { TOKEN_ID, tokenPan, type SimModel } from './model';

/** Key id in the protected header of every Create Transaction JWE. */
export const TR_JWE_KID = 'tr-key-1';
// With or without the /tsh-cof prefix in the configured base URL.
const TRANSACTIONS_PATH = /^(?:\/tsh-cof)?\/transactions$/;

export interface CofDeps {
  /** Unset = any `APIKEY <non-empty>` is accepted. */
  cofApiKey?: string;
  /** Unset = Create Transaction answers 500. */
  jweKey?: KeyObject;
  model: SimModel;
  faults: Faults;
  requests: RequestRecord[];
  log: Log;
}

/** Accepts SPKI or PKCS#8 PEM (the public half of a private key), real or `\n`-escaped newlines, or a KeyObject. */
export function toPublicKey(key: string | KeyObject): KeyObject {
  const publicKey = typeof key === 'string' ? createPublicKey(key.replace(/\\n/g, '\n')) : key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'rsa') throw new Error('trJwePublicKey must be an RSA key');
  return publicKey;
}

const sameSecret = (a: string, b: string): boolean => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

const cofError = (status: number, errorCode: string, errorMessage: string): Answer => [status, { errorCode, errorMessage }];

/** How `/_sim/requests` shows the authorization header: never the key. */
function maskedAuthorization(req: IncomingMessage): string | null {
  const authorization = header(req, 'authorization');
  return authorization === undefined ? null : /^APIKEY\s/i.test(authorization) ? 'APIKEY ***' : '***';
}

/** Serves Create Transaction; false when `path` is not it. */
export function merchantApi({ cofApiKey, jweKey, model, faults, requests, log }: CofDeps) {
  /** `authorization: APIKEY <key>`, compared in constant time; undefined when accepted. */
  function checkApiKey(req: IncomingMessage): Answer | undefined {
    const presented = /^APIKEY\s+(\S.*)$/i.exec(header(req, 'authorization') ?? '')?.[1];
    const ok = presented !== undefined && (cofApiKey === undefined || sameSecret(presented, cofApiKey));
    return ok ? undefined : cofError(401, 'UNAUTHORIZED', 'missing or invalid API key');
  }

  /** Returns the answer, or undefined to hold the request open (`timeout` fault). */
  async function createTransaction(req: IncomingMessage, body: unknown): Promise<Answer | undefined> {
    const unauthorized = checkApiKey(req);
    if (unauthorized) return unauthorized;
    const correlationId = header(req, 'x-correlation-id');
    if (!correlationId || correlationId.length > 64) return cofError(400, 'INVALID_HEADER', 'x-correlation-id is required (1–64 chars)');
    if (!isObject(body)) return cofError(400, 'INVALID_REQUEST', 'body must be a JSON object');
    const { tokenId, transactionType } = body;
    if (typeof tokenId !== 'string' || !TOKEN_ID.test(tokenId)) return cofError(400, 'INVALID_REQUEST', 'tokenId must match ^[a-zA-Z0-9_-]{1,128}$');
    if (!isText(transactionType) || transactionType.length > 64) return cofError(400, 'INVALID_REQUEST', 'transactionType is required (1–64 chars)');

    const fault = faults.takeTransaction();
    switch (fault.mode) {
      case 'timeout':
        return undefined;
      case 'http400':
        return cofError(400, 'INVALID_REQUEST', 'Bad request (simulated)');
      case 'http404':
        return cofError(404, 'TOKEN_NOT_FOUND', 'Token not found (simulated)');
      case 'http500':
        return cofError(500, 'INTERNAL_ERROR', 'Internal server error (simulated)');
      case 'http503':
        return cofError(503, 'SERVICE_UNAVAILABLE', 'Service unavailable (simulated)');
      case 'ok':
      case 'badJwe':
        break;
    }

    const token = model.networkTokens.get(tokenId);
    if (!token) return cofError(404, 'TOKEN_NOT_FOUND', `unknown token ${tokenId}`);
    if (token.tokenState === 'DELETED') return cofError(400, 'TOKEN_DELETED', 'the token is deleted');
    if (token.tokenState === 'SUSPENDED') return cofError(400, 'TOKEN_SUSPENDED', 'the token is suspended');
    if (!jweKey) {
      log('createTransaction: no trJwePublicKey configured (TR_JWE_PUBLIC_KEY), cannot encrypt');
      return cofError(500, 'INTERNAL_ERROR', 'simulator has no token-requestor public key (trJwePublicKey)');
    }
    const plaintext = JSON.stringify({
      tokenPan: tokenPan(token.tokenId, token.panGeneration, token.tokenLastDigits),
      tokenExpiryDate: token.tokenExpiryDate,
      cryptogram: randomBytes(21).toString('base64'),
    });
    let encryptedData = await new jose.CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: TR_JWE_KID })
      .encrypt(jweKey);
    if (fault.mode === 'badJwe') {
      // Same shape and header, but a wrong authentication tag: decryption must fail.
      const parts = encryptedData.split('.');
      parts[4] = randomBytes(16).toString('base64url');
      encryptedData = parts.join('.');
    }
    const transactionId = randomUUID();
    log(
      `createTransaction ${tokenId} ${transactionType} x-correlation-id=${correlationId} -> 201 ${transactionId}` +
        `${fault.mode === 'badJwe' ? ' (undecryptable JWE)' : ''}`,
    );
    return [
      201,
      {
        transactionId,
        encryptedData,
        eci: '05',
        cryptogramExpiryDate: new Date(Date.now() + 10 * 60_000).toISOString(),
      },
    ];
  }

  return async function serve(req: IncomingMessage, res: ServerResponse, { pathname: path }: URL): Promise<boolean> {
    if (!TRANSACTIONS_PATH.test(path)) return false;
    if (req.method !== 'POST') {
      methodNotAllowed(res, { errorCode: 'METHOD_NOT_ALLOWED', errorMessage: 'method not allowed' });
      return true;
    }
    await serveRecorded(req, res, requests, log, path, {
      name: 'createTransaction',
      headers: { 'x-correlation-id': header(req, 'x-correlation-id') ?? null, authorization: maskedAuthorization(req) },
      handle: async (raw) => (raw.tooLarge ? cofError(413, 'INVALID_REQUEST', 'body too large') : createTransaction(req, raw.json)),
    });
    return true;
  };
}
