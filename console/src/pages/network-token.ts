import { get, type NetworkToken } from '../api';
import { badge, enc, facts, h, lookupForm, replace, text, time } from '../dom';
import { load, section, type PageContext } from '../ui';

const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]+$/;

/** The first image-like string in the opaque `cardArt` object (a few levels deep): a data: URL, or an https URL. */
export function findCardArt(art: unknown, depth = 0): { kind: 'data' | 'https'; src: string } | undefined {
  if (typeof art === 'string') {
    if (DATA_IMAGE.test(art)) return { kind: 'data', src: art };
    if (/^https:\/\/[^\s]+$/.test(art)) return { kind: 'https', src: art };
    return undefined;
  }
  if (depth > 3 || art === null || typeof art !== 'object') return undefined;
  const values = Array.isArray(art) ? (art as unknown[]) : Object.values(art as Record<string, unknown>);
  let https: { kind: 'data' | 'https'; src: string } | undefined;
  for (const value of values) {
    const found = findCardArt(value, depth + 1);
    if (found?.kind === 'data') return found;
    https ??= found;
  }
  return https;
}

/** MMYY → MM/YY. */
function expiry(value: string | null): string {
  return value && /^\d{4}$/.test(value) ? `${value.slice(0, 2)}/${value.slice(2)}` : text(value);
}

function cardArtView(token: NetworkToken): Node | undefined {
  if (token.cardArt === null) return undefined;
  const art = findCardArt(token.cardArt);
  if (!art) return h('span', {}, 'present, no image in it');
  // Only data: images are loaded (the CSP's img-src is 'self' data:); an https image would reach a third party.
  if (art.kind === 'data') return h('img', { class: 'card-art', src: art.src, alt: `Card art of token ${token.tokenId}` });
  return h('span', {}, 'external image, not loaded: ', h('code', { class: 'wrap' }, art.src));
}

/** `#/network-tokens[/id]`: the merchant-side token. Never calls `/token-pan`: the token PAN is not the console's to show. */
export function networkTokenPage(main: HTMLElement, ctx: PageContext, tokenId: string | undefined): void {
  const body = h('div', { class: 'results' });
  replace(
    main,
    h('h1', {}, tokenId ? `Network token ${tokenId}` : 'Network-token lookup'),
    lookupForm({
      id: 'network-token-id',
      label: 'Network token id (tokenId)',
      placeholder: 'e.g. t-1',
      button: 'Look up network token',
      value: tokenId,
      route: (v) => `#/network-tokens/${enc(v)}`,
    }),
    body,
  );
  if (!tokenId) return;
  const panel = h('div');
  body.append(section('Network token', panel));
  void load(
    panel,
    ctx,
    () => get<NetworkToken>(`/v1/network-tokens/${enc(tokenId)}`),
    (token) =>
      facts([
        ['State', token.state === null ? 'not reported yet' : badge(token.state)],
        ['Merchant', token.merchantId],
        ['Token last digits', token.tokenLastDigits ? `•••• ${token.tokenLastDigits}` : '—'],
        ['Token expiry', expiry(token.tokenExpiryDate)],
        ['Card last digits', token.cardLastDigits ? `•••• ${token.cardLastDigits}` : '—'],
        ['Card expiry', expiry(token.cardExpiryDate)],
        ['Card BIN', text(token.cardBin)],
        ['PAR', text(token.par)],
        ['Card art', cardArtView(token) ?? '—'],
        ['Token PAN stored', token.tokenPanStored ? 'yes, sealed (never shown here)' : 'no'],
        ['Last update (D1)', time(token.lastUpdateTimestamp)],
        ['Updated', time(token.updatedAt)],
      ]),
    { notFound: `No network token ${tokenId} is known.` },
  );
}
