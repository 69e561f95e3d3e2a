import { notFound } from '../domain/errors';
import { tokenView, type Token } from '../domain/token';
import type { HistoryEvent } from '../domain/virtual-card-change';
import type { PageRequest, TokenStore } from '../ports/token-store';

/** Read side of the issuer API: tokens, a card's tokens (DELETED included), a token's audit trail. */

export async function readToken(deps: { store: TokenStore }, virtualCardId: string): Promise<ReturnType<typeof tokenView>> {
  const token = await deps.store.getToken(virtualCardId);
  if (!token) throw notFound('token');
  return tokenView(token);
}

export async function readCardTokens(
  deps: { store: TokenStore },
  issuerCardRefId: string,
  page: PageRequest,
): Promise<{ issuerCardRefId: string; tokens: ReturnType<typeof tokenView>[]; nextToken: string | null }> {
  const result = await deps.store.listCardTokens(issuerCardRefId, page);
  return { issuerCardRefId, tokens: result.items.map((t: Token) => tokenView(t)), nextToken: result.nextToken };
}

/** 404 for a token we do not know, even if callbacks about it were recorded before it was learnt. */
export async function readTokenHistory(
  deps: { store: TokenStore },
  virtualCardId: string,
  page: PageRequest,
): Promise<{ virtualCardId: string; events: HistoryEvent[]; nextToken: string | null }> {
  const [token, result] = await Promise.all([deps.store.getToken(virtualCardId), deps.store.history(virtualCardId, page)]);
  if (!token) throw notFound('token');
  return { virtualCardId, events: result.items, nextToken: result.nextToken };
}
