import { randomBytes } from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { Webhook } from 'standardwebhooks';

/**
 * Webhooks out (DESIGN §8), the pure parts: which addresses a webhook may reach, the retry schedule, the secret's
 * format and the Standard Webhooks headers. No I/O: the DNS lookup, the HTTP call and the queues are the callers'.
 */

// ---------------------------------------------------------------------------------------------------------
// Where a webhook may go (SSRF guard)

/**
 * The ipaddr.js range names of the addresses a webhook must never reach from AWS: loopback, RFC 1918 private,
 * link-local (169.254.169.254, the instance metadata service, is one), IPv6 unique-local (fd00:ec2::254, the
 * metadata service over IPv6, is one), unspecified, carrier-grade NAT, and every other special-purpose block.
 * Anything ipaddr.js does not call `unicast` is refused: a deny-list of names would let the next special range
 * through; an allow-list of one cannot.
 */
export type AddressVerdict = { allowed: true } | { allowed: false; range: string };

/**
 * Classifies one IP literal (v4 or v6; an IPv4-mapped IPv6 address such as `::ffff:127.0.0.1` is judged as the
 * IPv4 address it carries, so it cannot smuggle a loopback or private address past the check). Not an IP at all →
 * refused as `invalid`.
 */
export function classifyAddress(address: string): AddressVerdict {
  const literal = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // A zone id (fe80::1%eth0) only ever names a link-local address.
  if (literal.includes('%')) return { allowed: false, range: 'linkLocal' };
  if (!ipaddr.isValid(literal)) return { allowed: false, range: 'invalid' };
  let parsed = ipaddr.parse(literal);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  return range === 'unicast' ? { allowed: true } : { allowed: false, range };
}

/** Is this host an IP literal (as a URL's `hostname` spells it: IPv6 in brackets)? */
export function isIpLiteral(hostname: string): boolean {
  const literal = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return ipaddr.isValid(literal) && (literal.includes(':') || ipaddr.IPv4.isValidFourPartDecimal(literal));
}

/** A loopback host as `npm start`'s event sink is addressed: `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (!isIpLiteral(host)) return false;
  const verdict = classifyAddress(host);
  return !verdict.allowed && verdict.range === 'loopback';
}

/** Why a webhook URL is refused before any DNS lookup (`null`: its form is fine; the addresses are checked next). */
export function urlProblem(url: string, allowLoopback: boolean): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be a URL';
  }
  if (parsed.username || parsed.password) return 'must not carry credentials';
  if (parsed.protocol === 'https:') {
    if (!allowLoopback && isIpLiteral(parsed.hostname)) {
      const verdict = classifyAddress(parsed.hostname);
      if (!verdict.allowed) return `must not point to a ${verdict.range} address`;
    }
    return null;
  }
  if (parsed.protocol === 'http:') {
    return allowLoopback && isLoopbackHost(parsed.hostname) ? null : 'must be https (http only to a loopback address under npm start)';
  }
  return 'must be https';
}

/** The first refused address among those a host resolved to, as a field message (`null`: every one is allowed). */
export function resolvedAddressProblem(addresses: readonly string[]): string | null {
  if (addresses.length === 0) return 'does not resolve';
  for (const address of addresses) {
    const verdict = classifyAddress(address);
    if (!verdict.allowed) return `resolves to a ${verdict.range} address`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------
// The retry schedule

export interface RetryPolicy {
  /** Ceiling of the first retry's delay; each later one doubles it, up to `capSeconds`. */
  baseSeconds: number;
  capSeconds: number;
  /** Retries go on until at least this long after the first attempt; the next failure after it parks the delivery. */
  budgetMs: number;
}

/** DESIGN §8: at least 24 h of retries. 10 s, 20 s … 4 h ceilings: about 20 attempts on average over the day. */
export const WEBHOOK_RETRY_POLICY: RetryPolicy = { baseSeconds: 10, capSeconds: 4 * 3600, budgetMs: 24 * 3600 * 1000 };

/** SQS's longest DelaySeconds; a longer wait is several hops (`notBefore` on the message). */
export const SQS_MAX_DELAY_SECONDS = 900;

/** The delay ceiling before retry number `attempt` (the attempt that just failed): base × 2^(attempt−1), capped. */
export function backoffCeilingSeconds(attempt: number, policy: RetryPolicy = WEBHOOK_RETRY_POLICY): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 40);
  return Math.min(policy.capSeconds, policy.baseSeconds * 2 ** exponent);
}

/**
 * Exponential backoff with full jitter (uniform between 0 and the ceiling), in whole seconds, at least 1: SQS delays
 * are whole seconds, and a floor of one keeps an unlucky draw from turning retries into a tight loop.
 */
export function backoffSeconds(attempt: number, random: number, policy: RetryPolicy = WEBHOOK_RETRY_POLICY): number {
  const ceiling = backoffCeilingSeconds(attempt, policy);
  return Math.min(ceiling, Math.max(1, Math.ceil(random * ceiling)));
}

export type FailureDecision = { kind: 'retry'; delaySeconds: number } | { kind: 'park' };

/** After a failed attempt: retry after the backoff, or — once the budget since the first attempt is spent — park it. */
export function afterFailure(attempt: number, firstAttemptAt: string, now: Date, random: number, policy: RetryPolicy = WEBHOOK_RETRY_POLICY): FailureDecision {
  if (now.getTime() - Date.parse(firstAttemptAt) >= policy.budgetMs) return { kind: 'park' };
  return { kind: 'retry', delaySeconds: backoffSeconds(attempt, random, policy) };
}

/** How one wait is sent: the SQS delay of this hop, and the instant to hold until when the wait needs more hops. */
export function hop(delaySeconds: number, now: Date): { delaySeconds: number; notBefore?: string } {
  if (delaySeconds <= SQS_MAX_DELAY_SECONDS) return { delaySeconds: Math.max(0, Math.ceil(delaySeconds)) };
  return { delaySeconds: SQS_MAX_DELAY_SECONDS, notBefore: new Date(now.getTime() + delaySeconds * 1000).toISOString() };
}

// ---------------------------------------------------------------------------------------------------------
// Secrets and signatures

/** How long the previous secret keeps signing after a rotation (DESIGN §8). */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

/** A new signing secret, `whsec_<base64 of 32 random bytes>` (Standard Webhooks). */
export const newWebhookSecret = (): string => `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64')}`;

export const isWebhookSecret = (value: string): boolean => /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/.test(value);

export interface WebhookRequest {
  headers: Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature' | 'content-type', string>;
  body: string;
}

/**
 * The Standard Webhooks request for one attempt: webhook-id = the event id (identical on every attempt, so the
 * receiver dedupes), webhook-timestamp = this attempt's time in unix seconds, and one `v1,<signature>` per secret,
 * newest first, space-separated (two during a rotation's overlap). Signed by the `standardwebhooks` package itself.
 */
export function webhookRequest(event: { id: string }, secrets: readonly string[], at: Date): WebhookRequest {
  if (secrets.length === 0) throw new Error('a webhook needs at least one signing secret');
  const body = JSON.stringify(event);
  const signature = secrets.map((secret) => new Webhook(secret).sign(event.id, at, body)).join(' ');
  return {
    headers: {
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
      'content-type': 'application/json',
    },
    body,
  };
}
