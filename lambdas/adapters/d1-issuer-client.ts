import type { D1Answer } from '../domain/operation';
import * as z from 'zod';
import { deviceFrom } from '../domain/token';
import type { CardInfoAnswer, D1IssuerGateway, UpdateCardStateRequest } from '../ports/d1-issuer';

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
    const response = await this.post('updateCardState', request.correlationId, body);
    if (response instanceof Response) {
      if (response.ok) {
        await response.body?.cancel().catch(() => undefined);
        return { kind: 'accepted' };
      }
      return { kind: 'http-error', status: response.status, responseCode: await responseCode(response) };
    }
    return response;
  }

  /** `POST {D1_ISSUER_BASE_URL}/getCardInfo`: D1's list of the card's tokens and their statuses. */
  async getCardInfo(request: { issuerCardRefId: string; correlationId: string }): Promise<CardInfoAnswer> {
    const response = await this.post('getCardInfo', request.correlationId, { issuerCardRefId: request.issuerCardRefId });
    if (!(response instanceof Response)) return { kind: 'unavailable' };
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'unavailable' };
    }
    if (!response.ok) return { kind: 'rejected', status: response.status, responseCode: await responseCode(response) };
    const parsed = cardInfoResponse.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) return { kind: 'rejected', status: response.status };
    return { kind: 'ok', virtualCards: parsed.data.virtualCardList };
  }

  private async post(operation: string, correlationId: string, body: unknown): Promise<Response | { kind: 'timeout' } | { kind: 'network-error' }> {
    try {
      return await this.fetch(new URL(operation, withTrailingSlash(this.options.baseUrl)), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-correlation-id': correlationId, 'x-issuer-id': this.options.issuerId },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      return name === 'TimeoutError' || name === 'AbortError' ? { kind: 'timeout' } : { kind: 'network-error' };
    }
  }
}

/**
 * Only what reconciliation reads. `deviceInformation` is taken as unknown and reduced at once to manufacturer, model
 * and device name (deviceFrom): its identifiers (IMEI, phone number, serial number) and any `tokenInfo` are dropped
 * here, never stored, never logged, and a shape we do not expect costs the device, not the reconciliation.
 */
const cardInfoResponse = z.object({
  virtualCardList: z
    .array(
      z
        .object({
          virtualCardId: z.string().min(1).max(64),
          status: z.string(),
          walletProviderId: z.string().optional(),
          deviceInformation: z.unknown().optional(),
        })
        .transform(({ deviceInformation, ...card }) => ({ ...card, device: deviceFrom(deviceInformation) })),
    )
    .default([]),
});

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
