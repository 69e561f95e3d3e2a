/** The load generators: autocannon for ack latency, a keep-alive client pool for the pipeline's deliveries. */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { Delivery } from './workload';

export interface AckFigures {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  requestsPerSecond: number;
  requests: number;
  /** Non-2xx answers and socket errors: any is a product failure under load, reported loudly. */
  failures: number;
}

export interface AckTarget {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** `connections` clients, each sending the next request as soon as the previous one is answered. */
export async function measureAck(target: AckTarget, seconds: number, connections: number): Promise<AckFigures> {
  const result = await autocannon({ url: target.url, method: 'POST', headers: target.headers, body: target.body, connections, duration: seconds });
  return {
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    meanMs: result.latency.average,
    // Completed requests over the run's real length: autocannon's per-second average skews on short runs.
    requestsPerSecond: result.requests.total / result.duration,
    requests: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

const now = (): number => performance.timeOrigin + performance.now();

export interface SendResult {
  /** When each callback identity was first sent (epoch ms). */
  firstSent: Map<string, number>;
  /** When the first 2xx answer for each callback identity arrived (epoch ms): the callback accepted by the webhook. */
  firstAccepted: Map<string, number>;
  startedAt: number;
  finishedAt: number;
  failures: string[];
}

function post(agent: Agent, baseUrl: string, delivery: Delivery): Promise<number> {
  const url = new URL(delivery.path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...delivery.headers, 'content-length': Buffer.byteLength(delivery.body) } }, (res) => {
      res.resume(); // the answer's body does not matter, only its status
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(delivery.body);
  });
}

/** Sends every delivery in order, `concurrency` at a time on keep-alive connections (as D1 would). */
export async function sendAll(baseUrl: string, deliveries: readonly Delivery[], concurrency: number, pathOverride?: string): Promise<SendResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const firstSent = new Map<string, number>();
  const firstAccepted = new Map<string, number>();
  const failures: string[] = [];
  let next = 0;
  const startedAt = now();
  const worker = async (): Promise<void> => {
    while (next < deliveries.length) {
      const delivery = deliveries[next++]!;
      if (!firstSent.has(delivery.key)) firstSent.set(delivery.key, now());
      try {
        const status = await post(agent, baseUrl, pathOverride ? { ...delivery, path: pathOverride } : delivery);
        if (status < 200 || status > 299) failures.push(`${delivery.key}: HTTP ${status}`);
        else if (!firstAccepted.has(delivery.key)) firstAccepted.set(delivery.key, now());
      } catch (err) {
        failures.push(`${delivery.key}: ${(err as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  agent.destroy();
  return { firstSent, firstAccepted, startedAt, finishedAt: now(), failures };
}
