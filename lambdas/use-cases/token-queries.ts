import { notFound } from '../domain/errors';
import { tokenView, type Token } from '../domain/token';
import type { HistoryEvent } from '../domain/virtual-card-change';
import type { PageRequest, TokenStore } from '../ports/token-store';

/** Read side of the issuer API: tokens, a card's tokens (DELETED included), a token's audit trail. */
export class TokenQueries {
  constructor(private readonly store: TokenStore) {}

  async token(virtualCardId: string): Promise<ReturnType<typeof tokenView>> {
    const token = await this.store.getToken(virtualCardId);
    if (!token) throw notFound('token');
    return tokenView(token);
  }

  async cardTokens(issuerCardRefId: string, page: PageRequest): Promise<{ issuerCardRefId: string; tokens: ReturnType<typeof tokenView>[]; nextToken: string | null }> {
    const result = await this.store.listCardTokens(issuerCardRefId, page);
    return { issuerCardRefId, tokens: result.items.map((t: Token) => tokenView(t)), nextToken: result.nextToken };
  }

  /** 404 for a token we do not know, even if callbacks about it were recorded before it was learnt. */
  async history(virtualCardId: string, page: PageRequest): Promise<{ virtualCardId: string; events: HistoryEvent[]; nextToken: string | null }> {
    const [token, result] = await Promise.all([this.store.getToken(virtualCardId), this.store.history(virtualCardId, page)]);
    if (!token) throw notFound('token');
    return { virtualCardId, events: result.items, nextToken: result.nextToken };
  }
}
