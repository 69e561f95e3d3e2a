import * as z from 'zod';
import type { CreateTransactionAnswer, D1CofGateway } from '../ports/network-tokens';

/** D1 Create Transaction's 201 body (the wire format; the credentials inside `encryptedData` are checked after decryption). */
const createTransactionResponse = z.object({
  transactionId: z.string().min(1),
  encryptedData: z.string().min(1),
  eci: z.string().optional(),
  cryptogramExpiryDate: z.string().optional(),
});

export interface D1CofClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** `POST {D1_COF_BASE_URL}/transactions` with `authorization: APIKEY …` and `x-correlation-id` (DESIGN §4). */
export class D1CofClient implements D1CofGateway {
  private readonly fetch: typeof fetch;

  constructor(private readonly options: D1CofClientOptions) {
    this.fetch = options.fetch ?? fetch;
  }

  async createTransaction(request: { tokenId: string; transactionType: string; correlationId: string }): Promise<CreateTransactionAnswer> {
    let response: Response;
    try {
      const base = this.options.baseUrl.endsWith('/') ? this.options.baseUrl : `${this.options.baseUrl}/`;
      response = await this.fetch(new URL('transactions', base), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `APIKEY ${this.options.apiKey}`, 'x-correlation-id': request.correlationId },
        body: JSON.stringify({ tokenId: request.tokenId, transactionType: request.transactionType }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      return { kind: 'unavailable', reason: name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network-error' };
    }
    if (response.status >= 500) {
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'unavailable', reason: 'http-5xx' };
    }
    if (response.status >= 400) {
      await response.body?.cancel().catch(() => undefined);
      return { kind: 'rejected', status: response.status };
    }
    try {
      const body = createTransactionResponse.parse(await response.json());
      return { kind: 'created', ...body };
    } catch {
      return { kind: 'rejected', status: response.status };
    }
  }
}
