import type { HistoryEvent, HistoryPage, NetworkTokenView, Operation, Token } from './contract-types';
import { eventually } from './stack';

/**
 * Reads of the service's public routes, as the integration files make them. Each factory takes the stack's URL as
 * a function because the stack only starts in beforeAll, after the module-level helpers are built.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The statuses an LCM operation ends in: none follows them. */
export const FINAL_STATUSES = ['SUCCEEDED', 'PARTIALLY_FAILED', 'FAILED'];
const RANK: Record<string, number> = { PENDING: 0, SUBMITTED: 1, SUCCEEDED: 2, PARTIALLY_FAILED: 2, FAILED: 2 };

/** The statuses seen, in order, only ever moved forward (PENDING → SUBMITTED → final), never back. */
export function expectForwardOnly(seen: string[]): void {
  for (let i = 1; i < seen.length; i++) {
    expect({ from: seen[i - 1], to: seen[i], forward: RANK[seen[i]!]! >= RANK[seen[i - 1]!]! }).toMatchObject({ forward: true });
  }
}

/** A GET answered with JSON: its status and parsed body (every route read goes through here). */
export async function fetchJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

/** Tokens, their history and LCM operations: the issuer-side reads several files share. */
export function issuerRoutes(baseUrl: () => string) {
  const getJson = <T>(path: string) => fetchJson<T>(baseUrl() + path);
  const tokenPath = (vc: string): string => `/v1/tokens/${encodeURIComponent(vc)}`;

  /** The token; fails the test unless it is there (200). */
  async function getToken(vc: string): Promise<Token> {
    const { status, body } = await getJson<Token>(tokenPath(vc));
    expect(status).toBe(200);
    return body;
  }

  /** Polls the read route until the token exists and satisfies `ready`. */
  function tokenWhen(vc: string, ready: (t: Token) => boolean): Promise<Token> {
    return eventually(async () => {
      const { status, body } = await getJson<Token>(tokenPath(vc));
      return status === 200 && ready(body) ? body : undefined;
    });
  }

  /** The first history page of a token (200 expected); callers that pin paging assert on it further. */
  async function historyPage(vc: string): Promise<HistoryPage> {
    const { status, body } = await getJson<HistoryPage>(`${tokenPath(vc)}/history`);
    expect(status).toBe(200);
    return body;
  }

  /** The token's history events, oldest first (200 expected). */
  async function history(vc: string): Promise<HistoryEvent[]> {
    return (await historyPage(vc)).events;
  }

  /** The LCM operation; fails the test unless it is there (200). */
  async function getOperation(id: string): Promise<Operation> {
    const { status, body } = await getJson<Operation>(`/v1/lcm-operations/${encodeURIComponent(id)}`);
    expect(status).toBe(200);
    return body;
  }

  /**
   * Polls the operation until `ready` holds (or the deadline passes) and returns the last one read, so a failed
   * wait shows the operation as it was rather than a bare timeout. Every status seen is kept in `seen`.
   */
  async function operationWhen(id: string, ready: (op: Operation) => boolean, timeoutMs = 10_000, seen: string[] = []): Promise<Operation> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const op = await getOperation(id);
      if (seen[seen.length - 1] !== op.status) seen.push(op.status);
      if (ready(op) || Date.now() > deadline) return op;
      await sleep(25);
    }
  }

  /** operationWhen until the operation is final (SUCCEEDED, PARTIALLY_FAILED or FAILED). */
  function finalOperation(id: string, seen: string[] = [], timeoutMs = 10_000): Promise<Operation> {
    return operationWhen(id, (op) => FINAL_STATUSES.includes(op.status), timeoutMs, seen);
  }

  /**
   * Watches the operation until `done` settles (e.g. the stack quiet: nothing left that could still change it),
   * keeping every status seen in `seen`, then reads it once more and returns that last read. Rejects if `done`
   * does.
   */
  async function operationUntil(id: string, done: Promise<unknown>, seen: string[] = []): Promise<Operation> {
    let over = false;
    const settled = done.finally(() => {
      over = true;
    });
    settled.catch(() => undefined); // awaited below; this only keeps an early rejection from going unhandled
    for (;;) {
      const last = over;
      const op = await getOperation(id);
      if (seen[seen.length - 1] !== op.status) seen.push(op.status);
      if (last) {
        await settled;
        return op;
      }
      await Promise.race([sleep(25), settled.catch(() => undefined)]);
    }
  }

  return { getJson, getToken, tokenWhen, historyPage, history, getOperation, operationWhen, finalOperation, operationUntil };
}

/** `GET /v1/network-tokens/{tokenId}`: the merchant-side reads both network-token files share. */
export function networkTokenRoutes(baseUrl: () => string) {
  const getJson = <T>(path: string) => fetchJson<T>(baseUrl() + path);

  /** The network token, or undefined while it is unknown (404); any other answer fails the test. */
  async function getToken(tokenId: string): Promise<NetworkTokenView | undefined> {
    const res = await getJson<NetworkTokenView>(`/v1/network-tokens/${encodeURIComponent(tokenId)}`);
    if (res.status === 404) return undefined;
    expect(res.status).toBe(200);
    return res.body;
  }

  /** The network token, which must exist. */
  async function tokenNow(tokenId: string): Promise<NetworkTokenView> {
    const t = await getToken(tokenId);
    if (!t) throw new Error(`network token ${tokenId} not found`);
    return t;
  }

  /** Polls (up to 15 s: updates go through a queue) until the token exists and satisfies `predicate`. */
  function tokenWhen(tokenId: string, predicate: (t: NetworkTokenView) => boolean): Promise<NetworkTokenView> {
    return eventually(async () => {
      const t = await getToken(tokenId);
      return t && predicate(t) ? t : undefined;
    }, 15_000);
  }

  return { getJson, getToken, tokenNow, tokenWhen };
}
