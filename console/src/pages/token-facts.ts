import type { Device, Token } from '../api';
import { badge, enc, facts, h, link, text, time } from '../dom';

function deviceText(device: Device | null): string {
  if (device === null) return 'none reported';
  const parts = [device.manufacturer, device.model].filter((part): part is string => typeof part === 'string' && part !== '');
  const name = device.deviceName ? `“${device.deviceName}”` : '';
  return [parts.join(' '), name].filter((part) => part !== '').join(' ') || '—';
}

/** A token's facts; the wallet-side fields only when the API sent them. */
export function tokenFacts(token: Token): HTMLDListElement {
  return facts([
    ['State', badge(token.state)],
    ['Wallet', text(token.walletProviderId)],
    ['Card', link(`#/cards/${enc(token.issuerCardRefId)}`, token.issuerCardRefId)],
    ['Last change', [text(token.lastAction), token.lastChangeSource ? ` by ${token.lastChangeSource}` : '']],
    ['Changed at', time(token.updatedAt)],
    ['Last operation', token.lastOperationId ? link(`#/operations/${enc(token.lastOperationId)}`, token.lastOperationId) : '—'],
    ['Renewals', [String(token.renewals), token.lastRenewedAt ? [' (last ', time(token.lastRenewedAt), ')'] : '']],
    ['Token storage id', 'tokenStorageId' in token ? text(token.tokenStorageId) : undefined],
    ['Wallet card ref', 'walletCardRefId' in token ? text(token.walletCardRefId) : undefined],
    ['Device', 'device' in token && token.device !== undefined ? deviceText(token.device) : undefined],
  ]);
}

export function tokenSummary(token: Token): HTMLElement {
  return h(
    'li',
    { class: 'item' },
    h('h3', { class: 'item-title' }, link(`#/tokens/${enc(token.virtualCardId)}`, token.virtualCardId), ' ', badge(token.state)),
    tokenFacts(token),
  );
}
