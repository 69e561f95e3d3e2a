/**
 * Bulk LCM jobs (DESIGN §9) through the back-office API: one SUSPEND job over N cards of one token each, started,
 * and watched until COMPLETED, with every consumer of the product running and the D1 simulator answering at once.
 * The simulator's record of the `updateCardState` calls it received is the pacing check: the most calls in any
 * sliding 1-second window must not exceed `D1_MAX_TPS`.
 */
import { maxInAnyWindow } from '../local/d1-simulator/pace';
import { now, sleep } from './phases';
import { callbackKey, type CounterReport } from './protocol';
import type { ServiceProcess } from './service-process';
import { CALLBACK_PATH, type Delivery } from './workload';

/** The most the API takes per request (POST /v1/lcm-jobs and …/cards). */
const CARDS_PER_REQUEST = 1000;

export interface JobRun {
  cards: number;
  maxTps: number;
  /** start request → job COMPLETED, as the client saw it. */
  seconds: number;
  /** N / D1_MAX_TPS: the fastest D1 allows. */
  floorSeconds: number;
  /** updateCardState calls the simulator received during the job, and the most in any sliding 1-s window. */
  d1Calls: number;
  maxCallsInAnySecond: number;
  /** First to last updateCardState call of the job, seconds. */
  d1SpanSeconds: number;
  counts: Record<string, number>;
  counters: CounterReport;
}

interface JobBody {
  jobId: string;
  status: string;
  counts: Record<string, number>;
}

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : null };
}

async function expectStatus(method: string, url: string, status: number, body?: unknown): Promise<unknown> {
  const answer = await call(method, url, body);
  if (answer.status !== status) throw new Error(`${method} ${url}: HTTP ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer.json;
}

/** The cards `/_sim/card-batches` seeds. */
export const jobCards = (prefix: string, count: number): { issuerCardRefId: string; virtualCardId: string }[] =>
  Array.from({ length: count }, (_, i) => ({ issuerCardRefId: `${prefix}-card-${i}`, virtualCardId: `${prefix}-vc-${i}` }));

/** One ACTIVATE per card's token, so the service knows each card's token (a CARD-scope operation expects it). */
export function learnDeliveries(cards: readonly { issuerCardRefId: string; virtualCardId: string }[]): Delivery[] {
  return cards.map((card, i) => {
    const correlationId = `learn-${card.virtualCardId}-${i}`;
    return {
      key: callbackKey({ correlationId, virtualCardId: card.virtualCardId, action: 'ACTIVATE', errorCode: null }),
      path: CALLBACK_PATH,
      headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId, 'x-issuer-id': 'ISSUER0001' },
      body: JSON.stringify({ ...card, action: 'ACTIVATE', walletProviderId: 'GOOGLE_PAY', source: 'WALLET' }),
    };
  });
}

/** Seeds the simulator's cards, `<prefix>-card-<i>` with token `<prefix>-vc-<i>`: D1 answers for them and sends their callbacks. */
export async function seedSimulatorCards(simulatorUrl: string, prefix: string, count: number): Promise<void> {
  await expectStatus('POST', `${simulatorUrl}/_sim/card-batches`, 201, { prefix, count, activate: false });
}

/**
 * The job itself, on cards seeded in the simulator and known to the service: created in requests of 1 000 cards,
 * started, polled until COMPLETED. Counters cover the job from its creation to the last event it caused.
 */
export async function jobPhase(
  service: ServiceProcess,
  options: { cards: readonly { issuerCardRefId: string }[]; maxTps: number; timeoutMs: number },
): Promise<JobRun> {
  const { gatewayUrl, simulatorUrl } = service.info;
  const ids = options.cards.map((c) => c.issuerCardRefId);
  await expectStatus('DELETE', `${simulatorUrl}/_sim/requests`, 200);
  await service.resetCounters();
  const created = (await expectStatus('POST', `${gatewayUrl}/v1/lcm-jobs`, 202, {
    action: 'SUSPEND',
    reason: 'bench: portfolio suspension',
    issuerCardRefIds: ids.slice(0, CARDS_PER_REQUEST),
  })) as JobBody;
  for (let from = CARDS_PER_REQUEST; from < ids.length; from += CARDS_PER_REQUEST) {
    await expectStatus('POST', `${gatewayUrl}/v1/lcm-jobs/${created.jobId}/cards`, 200, { issuerCardRefIds: ids.slice(from, from + CARDS_PER_REQUEST) });
  }
  const startedAt = now();
  await expectStatus('POST', `${gatewayUrl}/v1/lcm-jobs/${created.jobId}/start`, 202);
  const deadline = Date.now() + options.timeoutMs;
  let job: JobBody;
  for (;;) {
    job = (await expectStatus('GET', `${gatewayUrl}/v1/lcm-jobs/${created.jobId}`, 200)) as JobBody;
    if (job.status === 'COMPLETED') break;
    if (Date.now() > deadline) throw new Error(`job ${created.jobId} not COMPLETED after ${options.timeoutMs} ms: ${JSON.stringify(job)}`);
    await sleep(100);
  }
  const seconds = (now() - startedAt) / 1000;
  await service.idle();
  await service.eventsSettled(options.timeoutMs);
  const counters = await service.readCounters();
  const { requests } = (await expectStatus('GET', `${simulatorUrl}/_sim/requests`, 200)) as { requests: { path: string; receivedAtMs: number }[] };
  const calls = requests.filter((r) => r.path.endsWith('/updateCardState')).map((r) => r.receivedAtMs);
  return {
    cards: ids.length,
    maxTps: options.maxTps,
    seconds,
    floorSeconds: ids.length / options.maxTps,
    d1Calls: calls.length,
    maxCallsInAnySecond: maxInAnyWindow(calls),
    d1SpanSeconds: calls.length > 1 ? (Math.max(...calls) - Math.min(...calls)) / 1000 : 0,
    counts: job.counts,
    counters,
  };
}

/** What must hold after a job without faults: every card started once, succeeded, and D1 called once per card. */
export function jobMismatches(job: JobRun): string[] {
  const problems: string[] = [];
  const { cards, started, SUCCEEDED: succeeded, inFlight } = job.counts;
  if (cards !== job.cards || started !== job.cards || succeeded !== job.cards || inFlight !== 0) {
    problems.push(`job counts ${JSON.stringify(job.counts)}: expected ${job.cards} cards started and SUCCEEDED, none in flight`);
  }
  if (job.d1Calls !== job.cards) problems.push(`job: ${job.d1Calls} updateCardState calls for ${job.cards} cards`);
  if (job.maxCallsInAnySecond > job.maxTps) problems.push(`job: ${job.maxCallsInAnySecond} updateCardState calls in one second, D1_MAX_TPS ${job.maxTps}`);
  return problems;
}
