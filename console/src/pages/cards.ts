import { get, type CardTokens, type Token } from '../api';
import { empty, enc, h, loading, lookupForm, replace } from '../dom';
import { errorView, section, type PageContext } from '../ui';
import { tokenSummary } from './token-facts';

/** `#/cards[/id]`: a card's tokens (DELETED ones too), paged. */
export function cardsPage(main: HTMLElement, ctx: PageContext, cardId: string | undefined): void {
  const results = h('div', { class: 'results' });
  replace(
    main,
    h('h1', {}, cardId ? `Card ${cardId}` : 'Card lookup'),
    lookupForm({
      id: 'card-id',
      label: 'Issuer card reference (issuerCardRefId)',
      placeholder: 'e.g. card-1',
      button: 'Look up card',
      value: cardId,
      route: (v) => `#/cards/${enc(v)}`,
    }),
    results,
  );
  if (!cardId) return;
  const list = h('ul', { class: 'items', 'aria-label': `Tokens of card ${cardId}` });
  const more = h('div', { class: 'more' });
  const tokens: Token[] = [];
  const page = async (nextToken?: string): Promise<void> => {
    replace(more, loading(nextToken ? 'Loading more tokens…' : 'Loading tokens…'));
    try {
      const answer = await get<CardTokens>(`/v1/cards/${enc(cardId)}/tokens`, { nextToken });
      if (!ctx.alive()) return;
      tokens.push(...answer.tokens);
      list.append(...answer.tokens.map(tokenSummary));
      if (tokens.length === 0) replace(more, empty(`No tokens are known for card ${cardId}. Tokens appear once D1 tells us about them.`));
      else if (answer.nextToken) {
        const token = answer.nextToken;
        replace(more, h('button', { type: 'button', class: 'secondary', onclick: () => void page(token) }, 'Load more tokens'));
      } else replace(more);
    } catch (err) {
      if (ctx.alive()) replace(more, errorView(err, { retry: () => void page(nextToken) }));
    }
  };
  replace(results, section('Tokens', list, more));
  void page();
}
