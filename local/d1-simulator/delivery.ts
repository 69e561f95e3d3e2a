/**
 * Sends what D1 sends to our webhooks: issuer callbacks (`notifyVirtualCardChange`) and merchant token updates
 * (`notify-token-update`), retried like D1 does, each copy kept in the deliveries log without card data or keys.
 */
import { setMaxListeners } from 'node:events';
import { TOKEN_FIELDS } from './model';
import type { Log } from './http';

const CALLBACK_PATH = '/issuer/igwapi/v2.0/notifyVirtualCardChange';
const TOKEN_UPDATE_PATH = '/tsh-cof/notify-token-update';
const CALLBACK_RETRIES = 3;

/** One callback or token update to send, possibly several times. */
export interface Planned {
  kind: 'callback' | 'token-update';
  correlationId: string;
  body: Record<string, unknown>;
  copies: number;
  delayMs: number;
  concurrent: boolean;
  /** token-update only: send the configured key (default), a wrong one, or no authorization header. */
  apiKey?: 'wrong' | 'missing';
}

interface DeliveryBase {
  correlationId: string;
  /** Last HTTP status from our webhook; null while in flight or after network errors only. */
  status: number | null;
  attempts: number;
  error?: string;
  at: string;
}
/** An issuer-side `notifyVirtualCardChange`. */
export interface CallbackDeliveryRecord extends DeliveryBase {
  kind: 'callback';
  virtualCardId: string;
  action: string;
  errorCode?: number;
}
/** A merchant-side `notify-token-update`: which fields it carried, not their values (nor the API key). */
export interface TokenUpdateDeliveryRecord extends DeliveryBase {
  kind: 'token-update';
  tokenId: string;
  merchantId: string;
  lastUpdateTimestamp: unknown;
  tokenState?: unknown;
  fields: string[];
  /** Only when the delivery deliberately sent a wrong or no `authorization` header. */
  apiKey?: 'wrong' | 'missing';
}
export type DeliveryRecord = CallbackDeliveryRecord | TokenUpdateDeliveryRecord;

export interface DeliveryOptions {
  issuerId: string;
  serviceBaseUrl: string | (() => string);
  trApiKey?: string;
  retryDelayMs: number;
  timeoutMs: number;
  log: Log;
}

/** What the deliveries log shows of one copy (no card data, no key). */
function deliveryRecord({ kind, correlationId, body, apiKey }: Planned): DeliveryRecord {
  const base = { correlationId, status: null, attempts: 0, at: new Date().toISOString() };
  if (kind === 'callback') {
    return {
      kind,
      ...base,
      virtualCardId: String(body.virtualCardId),
      action: String(body.action),
      ...(typeof body.errorCode === 'number' ? { errorCode: body.errorCode } : {}),
    };
  }
  return {
    kind,
    ...base,
    tokenId: String(body.tokenId),
    merchantId: String(body.merchantId),
    lastUpdateTimestamp: body.lastUpdateTimestamp,
    ...(body.tokenState !== undefined ? { tokenState: body.tokenState } : {}),
    fields: TOKEN_FIELDS.filter((f) => body[f] !== undefined),
    ...(apiKey ? { apiKey } : {}),
  };
}

const describe = (r: DeliveryRecord): string =>
  r.kind === 'callback'
    ? `callback ${r.action} ${r.virtualCardId} x-correlation-id=${r.correlationId}${r.errorCode !== undefined ? ` errorCode=${r.errorCode}` : ''}`
    : `token-update ${r.tokenId} [${r.fields.join(',')}]${r.apiKey ? ` (${r.apiKey} api key)` : ''} x-correlation-id=${r.correlationId}`;

export class Deliveries {
  /** Every copy sent, for `/_sim/deliveries`. */
  readonly records: DeliveryRecord[] = [];
  private readonly pending = new Set<Promise<unknown>>();
  // Aborting this cancels every sleep and in-flight fetch, so stop() never waits on a timer or a slow webhook.
  private readonly stopper = new AbortController();

  constructor(private readonly opts: DeliveryOptions) {
    setMaxListeners(0, this.stopper.signal); // one listener per pending sleep/fetch is expected, not a leak
  }

  webhookUrl(): string {
    return new URL(CALLBACK_PATH, this.baseUrl()).toString();
  }

  tokenUpdateUrl(): string {
    return new URL(TOKEN_UPDATE_PATH, this.baseUrl()).toString();
  }

  /** Sends the plan in order, tracked for idle() and stop(); resolves with every copy's record. */
  start(plan: Planned[]): Promise<DeliveryRecord[]> {
    const p = this.run(plan);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p)).catch(() => undefined);
    return p;
  }

  async idle(): Promise<void> {
    // Loop: a finishing delivery plan can't add new ones, but a request arriving meanwhile can.
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  /** Cancels pending sleeps and fetches; settled() then resolves promptly. */
  abort(): void {
    this.stopper.abort();
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  private baseUrl(): string {
    const base = this.opts.serviceBaseUrl;
    return typeof base === 'function' ? base() : base;
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.stopper.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
    });
  }

  /** Copies of one item go one after another unless `concurrent`. */
  private async run(plan: Planned[]): Promise<DeliveryRecord[]> {
    const done: DeliveryRecord[] = [];
    for (const item of plan) {
      if (item.delayMs > 0) await this.sleep(item.delayMs);
      if (this.stopper.signal.aborted) break;
      const copies = Array.from({ length: item.copies }, () => () => this.deliver(item));
      if (item.concurrent) done.push(...(await Promise.all(copies.map((send) => send()))));
      else for (const send of copies) done.push(await send());
    }
    return done;
  }

  private headers({ kind, correlationId, apiKey }: Planned): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-correlation-id': correlationId };
    if (kind === 'callback') return { ...headers, 'x-issuer-id': this.opts.issuerId };
    const key = apiKey === 'wrong' ? 'sim-wrong-api-key' : apiKey === 'missing' ? undefined : this.opts.trApiKey;
    return key === undefined ? headers : { ...headers, authorization: `APIKEY ${key}` };
  }

  /**
   * One copy, retried on network errors and 5xx like D1 does (and on 429 for token updates, which the COF client
   * API lists as retryable).
   */
  private async deliver(item: Planned): Promise<DeliveryRecord> {
    const record = deliveryRecord(item);
    this.records.push(record);
    const url = item.kind === 'callback' ? this.webhookUrl() : this.tokenUpdateUrl();
    const headers = this.headers(item);
    const payload = JSON.stringify(item.body);
    const signal = this.stopper.signal;
    for (let attempt = 1; !signal.aborted; attempt++) {
      record.attempts = attempt;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers,
          body: payload,
          signal: AbortSignal.any([signal, AbortSignal.timeout(this.opts.timeoutMs)]),
        });
        await res.arrayBuffer(); // drain, so the keep-alive connection is reused
        record.status = res.status;
        delete record.error;
      } catch (err) {
        record.error = signal.aborted ? 'simulator stopped' : (err as Error).message;
      }
      this.opts.log(`${describe(record)} -> ${record.error ?? record.status} (attempt ${attempt})`);
      const status = record.status ?? 0;
      const retryable = record.error !== undefined || status >= 500 || (item.kind === 'token-update' && status === 429);
      if (!retryable || attempt > CALLBACK_RETRIES) break;
      await this.sleep(this.opts.retryDelayMs);
    }
    return record;
  }
}
