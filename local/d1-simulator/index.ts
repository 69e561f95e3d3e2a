/**
 * D1 simulator: a stand-in for the Thales Issuer Gateway (classic TSH) that issuers run to test their integration
 * with token-lifecycle, with no Thales account (DESIGN §6). Plain `node:http`, in-memory, one process.
 *
 * - `POST /updateCardState` answers 200 `{}` and then, like D1, sends one `notifyVirtualCardChange` per affected
 *   token to our webhook with the request's `x-correlation-id` (d1-api.md §1.1, §1.2).
 * - `POST /getCardInfo` lists the card's tokens with their D1 `status` (d1-api.md §2.4, §3.1).
 * - Merchant (COF) side: `POST /transactions` (also under `/tsh-cof`) is Create Transaction: `authorization: APIKEY`,
 *   a token of the simulator's network-token model → 201 with a JWE (RSA-OAEP-256 / A256GCM) to our public key
 *   holding `{ tokenPan, tokenExpiryDate, cryptogram }` (d1-api.md §2.5, §4.2). Token updates are delivered to
 *   our `POST /tsh-cof/notify-token-update` with `authorization: APIKEY <trApiKey>` (DESIGN §3).
 * - `/_sim/*` is the control API: seed cards and network tokens, start wallet/TSP/renewal callbacks and merchant
 *   token updates, inject faults (duplicates, delays, reordering, `errorCode` 221, HTTP 5xx/429/400, timeouts,
 *   dropped callbacks, undecryptable JWEs) and read what our service sent and what the simulator delivered.
 *   Not part of the fixed contract; documented in docs/local-run.md.
 *
 * Card data (`tokenInfo`), token PANs and API keys are never logged or kept in the logs it exposes. Token PANs
 * are not stored either: each is derived from (tokenId, PAN generation) when a transaction needs it.
 *
 * One module per concern: model, issuer-gateway, cof, control-api (+ control-schemas), delivery, faults; http and
 * validation are their shared plumbing. This one wires them to one server.
 */
import type { KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { merchantApi, toPublicKey } from './cof';
import { controlApi } from './control-api';
import { Deliveries } from './delivery';
import { Faults } from './faults';
import { notFound, sendJson, type RequestRecord } from './http';
import { issuerGateway } from './issuer-gateway';
import { SimModel } from './model';
import { BadRequest } from './validation';

export { TR_JWE_KID } from './cof';
export type { CallbackDeliveryRecord, DeliveryRecord, TokenUpdateDeliveryRecord } from './delivery';
export type { RequestRecord } from './http';
export { tokenPan, type D1TokenStatus, type SimNetworkToken, type SimToken } from './model';

export interface D1SimulatorOptions {
  port: number; // 0 = any free port
  host?: string; // default '127.0.0.1'
  issuerId: string; // 10 chars, sent as x-issuer-id on callbacks
  /** Our service's base URL; a function when it is only known after the simulator started (tests). */
  serviceBaseUrl: string | (() => string);
  log?: (line: string) => void;
  /** Pause between attempts of a callback that got a network error or 5xx (default 200 ms). */
  callbackRetryDelayMs?: number;
  /** Per-attempt timeout of a callback delivery (default 10 s). */
  callbackTimeoutMs?: number;
  /** Key D1 presents to our `POST /tsh-cof/notify-token-update` as `authorization: APIKEY <key>`; unset = no header. */
  trApiKey?: string;
  /** Key our service must present to Create Transaction; unset = any `APIKEY <non-empty>` is accepted. */
  cofApiKey?: string;
  /**
   * Our RSA public key (SPKI PEM, a PKCS#8 private-key PEM whose public half is used, or a KeyObject); Create
   * Transaction encrypts `encryptedData` to it. PEM may be `\n`-escaped. Unset = Create Transaction answers 500.
   */
  trJwePublicKey?: string | KeyObject;
}

export interface D1Simulator {
  url: string;
  port: number;
  /** Resolves when no callback delivery is pending (delayed ones included). */
  idle(): Promise<void>;
  /** Forgets cards, faults and logs (same as `POST /_sim/reset`). */
  reset(): void;
  stop(): Promise<void>;
}

export async function startD1Simulator(opts: D1SimulatorOptions): Promise<D1Simulator> {
  const log = opts.log ?? (() => undefined);
  const jweKey = opts.trJwePublicKey === undefined ? undefined : toPublicKey(opts.trJwePublicKey);
  const model = new SimModel();
  const faults = new Faults();
  const requests: RequestRecord[] = [];
  const deliveries = new Deliveries({
    issuerId: opts.issuerId,
    serviceBaseUrl: opts.serviceBaseUrl,
    trApiKey: opts.trApiKey,
    retryDelayMs: opts.callbackRetryDelayMs ?? 200,
    timeoutMs: opts.callbackTimeoutMs ?? 10_000,
    log,
  });
  const reset = (): void => {
    model.reset();
    faults.clear();
    requests.length = 0;
    deliveries.records.length = 0;
  };
  const endpoints = [
    issuerGateway({ issuerId: opts.issuerId, model, faults, deliveries, requests, log }),
    merchantApi({ cofApiKey: opts.cofApiKey, jweKey, model, faults, requests, log }),
    controlApi({ model, faults, deliveries, requests, reset }),
  ];

  const server = createServer((req, res) => {
    (async () => {
      const url = new URL(req.url ?? '/', 'http://sim');
      for (const serve of endpoints) if (await serve(req, res, url)) return;
      notFound(res, req.method ?? 'GET', url.pathname);
    })().catch((err: unknown) => {
      if (res.headersSent) return;
      const bad = err instanceof BadRequest;
      sendJson(res, bad ? 400 : 500, { error: { code: bad ? 'VALIDATION_FAILED' : 'INTERNAL', message: bad ? err.message : 'simulator error' } });
      if (!bad) log(`internal error: ${(err as Error).message}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  const later = typeof opts.serviceBaseUrl === 'function';
  log(
    `D1 simulator on ${url}, callbacks to ${later ? '(set later)' : deliveries.webhookUrl()}, token updates to ${later ? '(set later)' : deliveries.tokenUpdateUrl()}` +
      `${opts.trApiKey === undefined ? ' (no trApiKey: sent without authorization)' : ''}` +
      `${jweKey ? '' : ' (no trJwePublicKey: Create Transaction answers 500)'}`,
  );

  return {
    url,
    port,
    idle: () => deliveries.idle(),
    reset,
    async stop() {
      deliveries.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // includes requests held open by the timeout fault
      await deliveries.settled();
      await closed;
    },
  };
}

/**
 * Standalone: `npx tsx local/d1-simulator/index.ts` (env D1_SIM_PORT, ISSUER_ID, SERVICE_BASE_URL, TR_API_KEY,
 * D1_COF_API_KEY, TR_JWE_PUBLIC_KEY — PEM; without it the public half of TR_JWE_PRIVATE_KEY is used).
 */
if (import.meta.main) {
  const env = process.env;
  const jweKey = env.TR_JWE_PUBLIC_KEY || env.TR_JWE_PRIVATE_KEY;
  void startD1Simulator({
    port: Number(env.D1_SIM_PORT ?? 3100),
    issuerId: env.ISSUER_ID ?? 'ISSUER0001',
    serviceBaseUrl: env.SERVICE_BASE_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`,
    trApiKey: env.TR_API_KEY ?? 'local-tr-key',
    cofApiKey: env.D1_COF_API_KEY ?? 'local-cof-key',
    ...(jweKey ? { trJwePublicKey: jweKey } : {}),
    log: (line) => console.log(`[d1-sim] ${line}`),
  }).then((sim) => {
    const stop = (): void => void sim.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
