import { authorizeUrl, codeChallenge, jwtClaims, newCodeVerifier, signRequest } from '../../console/src/aws';
import type { AwsConfig } from '../../console/src/api';

/** The console's AWS-only module, its pure parts: PKCE (RFC 7636), the hosted-UI address, SigV4 on an API call. */
const CONFIG: AwsConfig = {
  mode: 'aws',
  region: 'eu-west-1',
  apiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
  userPoolId: 'eu-west-1_Pool',
  userPoolClientId: 'client-1',
  cognitoDomain: 'console-auth.auth.eu-west-1.amazoncognito.com',
  identityPoolId: 'eu-west-1:pool',
};
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token' };

describe('PKCE', () => {
  it('S256 challenge of the RFC 7636 appendix B verifier', async () => {
    await expect(codeChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).resolves.toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('verifiers are 43 base64url characters and never repeat', () => {
    const verifiers = new Set(Array.from({ length: 50 }, () => newCodeVerifier()));
    expect(verifiers.size).toBe(50);
    for (const verifier of verifiers) expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('the hosted-UI address asks for a code with the S256 challenge', () => {
    const url = new URL(authorizeUrl(CONFIG, 'https://console.example/console/', 'challenge-1', 'state-1'));
    expect(`${url.origin}${url.pathname}`).toBe('https://console-auth.auth.eu-west-1.amazoncognito.com/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'client-1',
      redirect_uri: 'https://console.example/console/',
      scope: 'openid email profile',
      code_challenge_method: 'S256',
      code_challenge: 'challenge-1',
      state: 'state-1',
    });
  });
});

describe('SigV4 on API calls', () => {
  const date = new Date('2026-12-04T02:00:00Z');

  it('a POST gets an execute-api Authorization header for the fixed credentials, the session token and the date', async () => {
    const signed = await signRequest(
      CONFIG,
      CREDENTIALS,
      { method: 'POST', path: '/v1/lcm-operations', body: { action: 'SUSPEND', issuerCardRefId: 'card-1' }, headers: { 'idempotency-key': 'k-1' } },
      date,
    );
    expect(signed.url).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/v1/lcm-operations');
    expect(signed.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/20261204\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*idempotency-key[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
    );
    expect(signed.headers.authorization).toContain('host');
    expect(signed.headers['x-amz-date']).toBe('20261204T020000Z');
    expect(signed.headers['x-amz-security-token']).toBe('session-token');
    // The browser sets host itself (and refuses it from a script); it was signed with the same value.
    expect(Object.keys(signed.headers).map((h) => h.toLowerCase())).not.toContain('host');
    expect(signed.body).toBe('{"action":"SUSPEND","issuerCardRefId":"card-1"}');
  });

  it('is deterministic, and the query and a stage path are signed', async () => {
    const request = { method: 'GET' as const, path: '/v1/tokens/vc-1/history', query: { limit: '20', nextToken: undefined } };
    const staged = { ...CONFIG, apiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod' };
    const [a, b, other] = await Promise.all([
      signRequest(staged, CREDENTIALS, request, date),
      signRequest(staged, CREDENTIALS, request, date),
      signRequest(staged, CREDENTIALS, { ...request, query: { limit: '21', nextToken: undefined } }, date),
    ]);
    expect(a.url).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/v1/tokens/vc-1/history?limit=20');
    expect(a.headers.authorization).toBe(b.headers.authorization);
    expect(other.headers.authorization).not.toBe(a.headers.authorization);
  });
});

describe('id token claims (display only)', () => {
  it('reads the payload of a JWT, UTF-8 included, and answers {} for garbage', () => {
    const payload = Buffer.from(JSON.stringify({ email: 'agënt@example.com', exp: 1 })).toString('base64url');
    expect(jwtClaims(`h.${payload}.s`)).toEqual({ email: 'agënt@example.com', exp: 1 });
    expect(jwtClaims('not-a-jwt')).toEqual({});
  });
});
