import type { Token } from '../domain/token';
import type { TokenStore } from '../ports/token-store';

/** Every token of a card, following the store's pages (cards hold a handful of tokens; the pages keep reads bounded). */
export async function allCardTokens(tokens: Pick<TokenStore, 'listCardTokens'>, issuerCardRefId: string): Promise<Token[]> {
  const all: Token[] = [];
  let nextToken: string | undefined;
  do {
    const page = await tokens.listCardTokens(issuerCardRefId, { limit: 100, nextToken });
    all.push(...page.items);
    nextToken = page.nextToken ?? undefined;
  } while (nextToken);
  return all;
}
