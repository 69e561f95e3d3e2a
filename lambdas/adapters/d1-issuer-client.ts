import type { D1Answer } from '../domain/operation';
import type { D1IssuerGateway, UpdateCardStateRequest } from '../ports/d1-issuer';

export interface D1IssuerClientOptions {
  baseUrl: string;
  issuerId: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/**
 * `POST {D1_ISSUER_BASE_URL}/updateCardState` with `x-correlation-id` and `x-issuer-id` (DESIGN §4). Every outcome is
 * an answer the domain classifies (retry or not); nothing here decides policy. The response body is read only for
 * D1's `responseCode` (the IGW error body `{responseCode, errorMessage}`), never logged.
 */
export class D1IssuerClient implements D1IssuerGateway {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: D1IssuerClientOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  async updateCardState(request: UpdateCardStateRequest): Promise<D1Answer> {
    const body = {
      issuerCardRefId: request.issuerCardRefId,
      ...(request.virtualCardId !== undefined ? { virtualCardId: request.virtualCardId } : {}),
      action: request.action,
      ...(request.reason !== undefined ? { reason: request.reason } : {}),
    };
    let response: Response;
    try {
      response = await this.fetch(new URL('updateCardState', withTrailingSlash(this.options.baseUrl)), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-correlation-id': request.correlationId, 'x-issuer-id': this.options.issuerId },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      return name === 'TimeoutError' || name === 'AbortError' ? { kind: 'timeout' } : { kind: 'network-error' };
    }
    if (response.ok) {
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'accepted' };
    }
    return { kind: 'http-error', status: response.status, responseCode: await responseCode(response) };
  }
}

const withTrailingSlash = (url: string): string => (url.endsWith('/') ? url : `${url}/`);

async function responseCode(response: Response): Promise<number | undefined> {
  try {
    const body = (await response.json()) as { responseCode?: unknown };
    const code = typeof body.responseCode === 'string' ? Number(body.responseCode) : body.responseCode;
    return typeof code === 'number' && Number.isInteger(code) ? code : undefined;
  } catch {
    return undefined;
  }
}
