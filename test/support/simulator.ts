import { generateKeyPairSync } from 'node:crypto';
import { startD1Simulator, type D1Simulator, type D1SimulatorOptions, type RequestRecord } from '../../local/d1-simulator';
import { liveView, useStarted } from './live';
import { queuesDrained } from './queues';
import { issuerRoutes } from './routes';
import { startTestStack, TEST_ENV, type TestStack } from './stack';

export type StackWithSimulatorOptions = NonNullable<Parameters<typeof startTestStack>[0]> & {
  /** Which of our D1 base URLs points at the simulator: the issuer (LCM) API or the merchant (COF) API. */
  d1BaseUrlEnv: 'D1_ISSUER_BASE_URL' | 'D1_COF_BASE_URL';
  /** Simulator settings beyond its port, our issuer id and our URL (API keys, JWE key, retry delays). */
  simulator?: Omit<D1SimulatorOptions, 'port' | 'issuerId' | 'serviceBaseUrl'>;
};

export interface StackWithSimulator {
  stack: TestStack;
  /** The simulator now running; restartSimulator() replaces it. */
  sim: D1Simulator;
  /** The simulator's base URL, which our service was given; the same across restarts (same port). */
  simUrl: string;
  /** Calls the simulator's control API (`/_sim/…`); throws on an answer ≥ 300 so a broken setup fails loudly. */
  simCall<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** The requests our service made to the simulator's `endpoint` (e.g. '/updateCardState'), in arrival order. */
  simRequests(endpoint: string, filter?: (r: RequestRecord) => boolean): Promise<RequestRecord[]>;
  /** The requests our service made to the simulator's `endpoint` about one card (the body's issuerCardRefId). */
  cardRequests(endpoint: string, card: string): Promise<RequestRecord[]>;
  /** Arms simulator faults (`POST /_sim/faults`). */
  setFaults(faults: Record<string, unknown>): Promise<unknown>;
  /** Disarms every fault, so one left armed (times not used up) cannot leak into the next test. */
  clearFaults(): Promise<unknown>;
  /** Has the simulator deliver one callback to our webhook as D1 would, and waits for the delivery's answers. */
  simCallback(body: Record<string, unknown>): Promise<{ statuses: number[] }>;
  /** Seeds the card at D1 and teaches our service its tokens with ACTIVATE callbacks (how we learn tokens). */
  seedCard(card: string, vcs: string[]): Promise<void>;
  /**
   * Waits until nothing is in flight on either side: the simulator's deliveries are done and every queue of ours is
   * drained (nothing visible, in flight or delayed; no poller busy). Twice over, so a delivery the simulator
   * started while the queues drained (its answer to a call our submitter made meanwhile) is drained too. After
   * it, "nothing more happened" is a fact, not a guess about delays.
   */
  quiet(): Promise<void>;
  /** Starts a fresh simulator (empty model) on the same port, after the test stopped the current one. */
  restartSimulator(): Promise<D1Simulator>;
  /** Stops the simulator now running, then the stack. */
  stop(): Promise<void>;
}

/**
 * A private stack with the D1 simulator wired both ways, as every D1-facing integration file needs: the stack must
 * know D1's URL before its handler modules load, so the simulator starts first (on a port the OS gives it: no
 * reserve-then-listen gap another process could steal) and learns the stack's URL once the stack is up.
 */
export async function startStackWithSimulator(options: StackWithSimulatorOptions): Promise<StackWithSimulator> {
  const { d1BaseUrlEnv, simulator, env, ...stackOptions } = options;
  let stack: TestStack | undefined;
  const serviceBaseUrl = (): string => {
    if (!stack) throw new Error('the stack is not up yet');
    return stack.url;
  };
  const startSim = (port: number) => startD1Simulator({ port, issuerId: TEST_ENV.ISSUER_ID, serviceBaseUrl, ...simulator });
  const sim: D1Simulator = await startSim(0);
  const simPort = sim.port;
  const simUrl = `http://127.0.0.1:${simPort}`;
  try {
    stack = await startTestStack({ ...stackOptions, env: { [d1BaseUrlEnv]: simUrl, ...env } });
  } catch (error) {
    await sim.stop();
    throw error;
  }
  const { tokenWhen } = issuerRoutes(() => stack.url);

  async function simCall<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(handle.sim.url + path, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`simulator ${method} ${path} → ${res.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  const handle: StackWithSimulator = {
    stack,
    sim,
    simUrl,
    simCall,
    async simRequests(endpoint, filter = () => true) {
      const { requests } = await simCall<{ requests: RequestRecord[] }>('GET', '/_sim/requests');
      return requests.filter((r) => r.path.endsWith(endpoint) && filter(r));
    },
    cardRequests: (endpoint, card) => handle.simRequests(endpoint, (r) => (r.body as { issuerCardRefId?: string } | null)?.issuerCardRefId === card),
    setFaults: (faults) => simCall('POST', '/_sim/faults', faults),
    clearFaults: () => simCall('DELETE', '/_sim/faults'),
    simCallback: (body) => simCall<{ statuses: number[] }>('POST', '/_sim/callbacks?wait=true', body),
    async seedCard(card, vcs) {
      await simCall('POST', '/_sim/cards', { issuerCardRefId: card, tokens: vcs.map((virtualCardId) => ({ virtualCardId })) });
      for (const vc of vcs) {
        await handle.simCallback({ issuerCardRefId: card, virtualCardId: vc, action: 'ACTIVATE', source: 'WALLET' });
        await tokenWhen(vc, (t) => t.state === 'ACTIVE');
      }
    },
    async quiet() {
      for (let pass = 0; pass < 2; pass++) {
        await handle.sim.idle();
        // The change stream too: publishing a change enqueues its webhook deliveries.
        await stack.service.published();
        await queuesDrained(stack);
      }
    },
    async restartSimulator() {
      handle.sim = await startSim(simPort);
      return handle.sim;
    },
    async stop() {
      await handle.sim.stop();
      await stack.stop();
    },
  };
  return handle;
}

/**
 * This file's stack with the simulator: started in beforeAll, every fault disarmed after each test (one left armed,
 * times not used up, must not leak into the next), stopped afterAll. `d1`, `stack` and `sim` stand for the running
 * handle, its stack and its current simulator (the new one after restartSimulator()), so a file names them at the
 * top and reads them in tests and hooks.
 */
export function useStackWithSimulator(options: StackWithSimulatorOptions): { d1: StackWithSimulator; stack: TestStack; sim: D1Simulator } {
  const d1 = useStarted(
    'the stack with the simulator',
    () => startStackWithSimulator(options),
    (running) => running.stop(),
  );
  afterEach(async () => {
    await d1.clearFaults();
  });
  return { d1, stack: liveView(() => d1.stack), sim: liveView(() => d1.sim) };
}

/** A fresh RSA key (PKCS#8 PEM) for the merchant-side JWE: our service decrypts with it, the simulator encrypts to its public half. */
export function merchantJweKeyPem(): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return privateKey;
}

/** Simulator settings for the merchant (COF) side: the API keys both ways match TEST_ENV, and Create Transaction encrypts to `jweKeyPem`. */
export function merchantSimulator(jweKeyPem: string): StackWithSimulatorOptions['simulator'] {
  return { trApiKey: TEST_ENV.TR_API_KEY, cofApiKey: TEST_ENV.D1_COF_API_KEY, trJwePublicKey: jweKeyPem };
}
