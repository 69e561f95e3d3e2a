/**
 * AWS mode only (config.json `mode: "aws"`): sign-in through the Cognito hosted UI (authorization code + PKCE S256),
 * identity-pool credentials for the id token, and SigV4 on every API call (service `execute-api`).
 *
 * Cognito's token endpoint and the cognito-identity JSON API are called with plain `fetch`: two small unsigned
 * requests, where `@aws-sdk/client-cognito-identity` would add its whole client runtime to the bundle.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { requestUrl, type ApiRequest, type AwsConfig, type Transport } from './api';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

const VERIFIER_KEY = 'tl-console.pkce-verifier';
const STATE_KEY = 'tl-console.pkce-state';
const ID_TOKEN_KEY = 'tl-console.id-token';

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A PKCE code verifier (RFC 7636 §4.1): 32 random bytes, base64url, 43 characters. */
export function newCodeVerifier(): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 code challenge: base64url(SHA-256(verifier)). */
export async function codeChallenge(verifier: string): Promise<string> {
  return base64Url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

function domainUrl(cognitoDomain: string): string {
  return /^https:\/\//.test(cognitoDomain) ? cognitoDomain.replace(/\/+$/, '') : `https://${cognitoDomain.replace(/\/+$/, '')}`;
}

export function authorizeUrl(config: AwsConfig, redirectUri: string, challenge: string, state: string): string {
  const url = new URL(`${domainUrl(config.cognitoDomain)}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.userPoolClientId,
    redirect_uri: redirectUri,
    scope: 'openid email profile',
    code_challenge_method: 'S256',
    code_challenge: challenge,
    state,
  }).toString();
  return url.toString();
}

/** Signs a request for API Gateway (IAM auth) with fixed credentials; returns what `fetch` needs. */
export async function signRequest(
  config: Pick<AwsConfig, 'region' | 'apiUrl'>,
  credentials: Credentials,
  request: ApiRequest,
  signingDate?: Date,
): Promise<{ url: string; method: string; headers: Record<string, string>; body: string | undefined }> {
  const url = requestUrl(config.apiUrl.endsWith('/') ? config.apiUrl : `${config.apiUrl}/`, { ...request, path: request.path.replace(/^\//, '') });
  const body = request.body === undefined ? undefined : JSON.stringify(request.body);
  const signer = new SignatureV4({ service: 'execute-api', region: config.region, credentials, sha256: Sha256 });
  const query: Record<string, string> = {};
  url.searchParams.forEach((value, name) => (query[name] = value));
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: {
        host: url.host,
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...request.headers,
      },
      ...(body !== undefined ? { body } : {}),
    },
    signingDate ? { signingDate } : {},
  );
  // The browser sets `host` itself and refuses it from scripts; it is signed with the same value.
  const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name.toLowerCase() !== 'host'));
  return { url: url.toString(), method: request.method, headers, body };
}

async function identityCall<T>(region: string, target: string, body: unknown): Promise<T> {
  const response = await fetch(`https://cognito-identity.${region}.amazonaws.com/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityService.${target}` },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`cognito-identity ${target} answered ${response.status}`);
  return (await response.json()) as T;
}

/** GetId then GetCredentialsForIdentity, with the user pool's id token as the login. */
export async function identityCredentials(config: AwsConfig, idToken: string): Promise<Credentials> {
  const logins = { [`cognito-idp.${config.region}.amazonaws.com/${config.userPoolId}`]: idToken };
  const { IdentityId } = await identityCall<{ IdentityId: string }>(config.region, 'GetId', { IdentityPoolId: config.identityPoolId, Logins: logins });
  const { Credentials } = await identityCall<{ Credentials: { AccessKeyId: string; SecretKey: string; SessionToken: string; Expiration: number } }>(
    config.region,
    'GetCredentialsForIdentity',
    { IdentityId, Logins: logins },
  );
  return {
    accessKeyId: Credentials.AccessKeyId,
    secretAccessKey: Credentials.SecretKey,
    sessionToken: Credentials.SessionToken,
    expiration: new Date(Credentials.Expiration * 1000),
  };
}

/** The claims of a JWT, unverified: only to show who is signed in and when to sign in again (the API verifies). */
export function jwtClaims(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(decodeURIComponent([...json].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function redirectUri(): string {
  return `${location.origin}${location.pathname}`;
}

export async function signIn(config: AwsConfig): Promise<void> {
  const verifier = newCodeVerifier();
  const state = newCodeVerifier();
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  sessionStorage.setItem(STATE_KEY, state);
  location.assign(authorizeUrl(config, redirectUri(), await codeChallenge(verifier), state));
}

export function signOut(config: AwsConfig): void {
  sessionStorage.removeItem(ID_TOKEN_KEY);
  const url = new URL(`${domainUrl(config.cognitoDomain)}/logout`);
  url.search = new URLSearchParams({ client_id: config.userPoolClientId, logout_uri: redirectUri() }).toString();
  location.assign(url.toString());
}

/** Back from the hosted UI with `?code=&state=`: exchange the code (with the stored verifier) for tokens. */
async function completeSignIn(config: AwsConfig, params: URLSearchParams): Promise<string> {
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  const expectedState = sessionStorage.getItem(STATE_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  sessionStorage.removeItem(STATE_KEY);
  if (!verifier || params.get('state') !== expectedState) throw new Error('sign-in answer does not match this browser session; sign in again');
  const response = await fetch(`${domainUrl(config.cognitoDomain)}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: config.userPoolClientId,
      code: params.get('code') ?? '',
      redirect_uri: redirectUri(),
      code_verifier: verifier,
    }).toString(),
  });
  if (!response.ok) throw new Error(`the token endpoint answered ${response.status}`);
  const { id_token: idToken } = (await response.json()) as { id_token: string };
  sessionStorage.setItem(ID_TOKEN_KEY, idToken);
  // Drop ?code=&state= from the address bar, keep the page's hash route.
  history.replaceState(null, '', `${location.pathname}${location.hash}`);
  return idToken;
}

export interface AwsSession {
  user: string;
}

/**
 * Signs the user in when needed, then installs a transport that signs every call. Resolves with who is signed in,
 * or undefined when a sign-in is needed (the caller shows a button calling `signIn`).
 */
export async function startAwsSession(config: AwsConfig, install: (transport: Transport) => void): Promise<AwsSession | undefined> {
  const params = new URLSearchParams(location.search);
  let idToken = params.has('code') ? await completeSignIn(config, params) : sessionStorage.getItem(ID_TOKEN_KEY);
  const expired = (token: string): boolean => Number(jwtClaims(token).exp ?? 0) * 1000 < Date.now() + 60_000;
  if (!idToken || expired(idToken)) {
    sessionStorage.removeItem(ID_TOKEN_KEY);
    return undefined;
  }
  let credentials = await identityCredentials(config, idToken);
  install(async (request) => {
    if (credentials.expiration && credentials.expiration.getTime() < Date.now() + 60_000) {
      if (!idToken || expired(idToken)) {
        idToken = null;
        await signIn(config);
        throw new Error('signing in again');
      }
      credentials = await identityCredentials(config, idToken);
    }
    const signed = await signRequest(config, credentials, request);
    return fetch(signed.url, {
      method: signed.method,
      headers: signed.headers,
      ...(signed.body !== undefined ? { body: signed.body } : {}),
      signal: AbortSignal.timeout(15_000),
    });
  });
  const claims = jwtClaims(idToken);
  return { user: String(claims.email ?? claims['cognito:username'] ?? claims.sub ?? 'signed in') };
}
