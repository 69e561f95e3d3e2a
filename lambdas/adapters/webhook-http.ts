import dns, { type LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { DomainError } from '../domain/errors';
import { isIpLiteral, resolvedAddressProblem, urlProblem, type WebhookRequest } from '../domain/webhooks';
import type { SendOutcome, WebhookSender, WebhookUrlPolicy } from '../ports/subscriptions';

/** Every address a host name resolves to (A and AAAA, as the OS resolver answers). */
export type Resolve = (hostname: string) => Promise<string[]>;

export const resolveAll: Resolve = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

const NOT_FOUND_CODES = new Set(['ENOTFOUND', 'ENODATA', 'EAI_NONAME', 'EAI_NODATA']);

/**
 * DESIGN §8's URL rule at subscription time: https (http only to loopback when loopback is allowed, under npm
 * start), and — in AWS, where loopback is not allowed — every address the host resolves to must be public unicast.
 * The same check runs again on every delivery (`UndiciWebhookSender`): a name may resolve elsewhere later.
 */
export class WebhookUrlGuard implements WebhookUrlPolicy {
  constructor(
    private readonly allowLoopback: boolean,
    private readonly resolve: Resolve = resolveAll,
  ) {}

  async check(url: string): Promise<string | null> {
    const problem = urlProblem(url, this.allowLoopback);
    if (problem !== null || this.allowLoopback) return problem;
    const { hostname } = new URL(url);
    if (isIpLiteral(hostname)) return null; // urlProblem classified it
    let addresses: string[];
    try {
      addresses = await this.resolve(hostname);
    } catch (err) {
      if (NOT_FOUND_CODES.has((err as NodeJS.ErrnoException).code ?? '')) return 'host does not resolve';
      throw new DomainError('UNAVAILABLE', 'could not resolve the webhook host');
    }
    const refused = resolvedAddressProblem(addresses);
    return refused === null ? null : `host ${refused}`;
  }
}

/** The error a refused address fails the connection with (counted as a failed attempt, like any other). */
export class RefusedAddress extends Error {
  readonly code = 'EWEBHOOKREFUSED';
  constructor(detail: string) {
    super(`refused: ${detail}`);
    this.name = 'RefusedAddress';
  }
}

/**
 * A `lookup` for the sockets undici opens: resolves every address and refuses the connection when any is not
 * public unicast. The check is on the addresses actually connected to, so a DNS answer that changed since the
 * subscription was created (rebinding) cannot reach the metadata service or the VPC.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const problem = resolvedAddressProblem(addresses.map((a) => a.address));
    if (problem !== null) return callback(new RefusedAddress(`${hostname} ${problem}`), '', 0);
    if (options.all) return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, addresses);
    return callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};

export interface SenderOptions {
  /** false in AWS: every connection goes through the address guard. */
  allowLoopback: boolean;
  /** DESIGN §8: no answer within 5 s is a failed attempt. */
  timeoutMs?: number;
}

/** Longest response body we read (and discard): a 2xx is all we need. */
const MAX_RESPONSE_BYTES = 64 * 1024;

function describe(err: unknown, timedOut: boolean): string {
  if (timedOut) return 'timeout';
  const e = err as { code?: string; name?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (code === 'EWEBHOOKREFUSED') return (err as Error).message;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return 'connection closed';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  return code ?? e.name ?? 'error';
}

/** Webhook POSTs over undici: one keep-alive pool per cold start, no redirects followed (a 3xx is a failure). */
export class UndiciWebhookSender implements WebhookSender {
  private readonly dispatcher: Agent;
  private readonly timeoutMs: number;

  constructor(private readonly options: SenderOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.dispatcher = new Agent({ connect: options.allowLoopback ? {} : { lookup: guardedLookup }, connections: 50 });
  }

  async send(url: string, webhook: WebhookRequest): Promise<SendOutcome> {
    if (!this.options.allowLoopback) {
      // IP literals never reach `lookup`: check them here (and the scheme, should a stored URL predate a rule).
      const problem = urlProblem(url, false);
      if (problem !== null) return { delivered: false, status: null, error: `refused: url ${problem}` };
    }
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const response = await request(url, {
        method: 'POST',
        headers: webhook.headers,
        body: webhook.body,
        dispatcher: this.dispatcher,
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      await response.body.dump({ limit: MAX_RESPONSE_BYTES }).catch(() => undefined);
      const status = response.statusCode;
      return status >= 200 && status < 300 ? { delivered: true, status } : { delivered: false, status, error: `HTTP ${status}` };
    } catch (err) {
      return { delivered: false, status: null, error: describe(err, signal.aborted) };
    }
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}
