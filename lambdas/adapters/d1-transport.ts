import { Agent, fetch as undiciFetch } from 'undici';
import { normalizePem } from './jwe-decrypter';

export interface D1ClientTls {
  /** Our client certificate chain and key (PEM), as onboarded with Thales. */
  cert: string;
  key: string;
  /** Extra trust anchors (test environments); the platform CA store otherwise. */
  ca?: string;
}

/**
 * The `fetch` our D1 clients use. With a client certificate: mutual TLS, TLS 1.2 at least, one keep-alive pool per
 * cold start (undici Agent). Without: the platform `fetch` (local runs against the simulator over plain HTTP).
 * Server certificates are verified against the platform's CA store; Thales' is publicly trusted (d1-api.md §4.1).
 */
export function d1Fetch(tls?: D1ClientTls): typeof fetch {
  if (!tls) return fetch;
  const dispatcher = new Agent({
    connect: { cert: normalizePem(tls.cert), key: normalizePem(tls.key), minVersion: 'TLSv1.2', ...(tls.ca ? { ca: normalizePem(tls.ca) } : {}) },
  });
  return ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) =>
    undiciFetch(input as never, { ...(init as object), dispatcher } as never)) as unknown as typeof fetch;
}

/** Both or neither: half a client identity is a configuration error, not a reason to fall back to plain TLS. */
export function d1ClientTls(env: { D1_CLIENT_CERT?: string | undefined; D1_CLIENT_KEY?: string | undefined }): D1ClientTls | undefined {
  if (!env.D1_CLIENT_CERT && !env.D1_CLIENT_KEY) return undefined;
  if (!env.D1_CLIENT_CERT || !env.D1_CLIENT_KEY) throw new Error('D1_CLIENT_CERT and D1_CLIENT_KEY must be set together');
  return { cert: env.D1_CLIENT_CERT, key: env.D1_CLIENT_KEY };
}
