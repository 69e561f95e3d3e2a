import { get, newIdempotencyKey, post, type History, type HistoryEvent, type Operation, type Token } from '../api';
import { badge, confirmDialog, empty, enc, h, link, loading, lookupForm, replace, text, time } from '../dom';
import { errorView, load, section, type PageContext } from '../ui';
import { followOperation } from './operation';
import { tokenFacts } from './token-facts';

type Action = 'SUSPEND' | 'RESUME' | 'DELETE';

/** What an agent may ask for in each state: nothing on a DELETED token. */
export function allowedActions(state: Token['state']): Action[] {
  switch (state) {
    case 'ACTIVE':
      return ['SUSPEND', 'DELETE'];
    case 'SUSPENDED':
      return ['RESUME', 'DELETE'];
    case 'INACTIVE':
      return ['DELETE'];
    default:
      return [];
  }
}

const LABELS: Record<Action, string> = { SUSPEND: 'Suspend', RESUME: 'Resume', DELETE: 'Delete' };

function historyItem(event: HistoryEvent): HTMLElement {
  return h(
    'li',
    { class: `event event-${event.outcome.toLowerCase()}` },
    h(
      'p',
      { class: 'event-head' },
      h('strong', {}, event.action),
      ' by ',
      event.source,
      ' · ',
      badge(event.outcome),
      event.stateAfter ? [' → ', badge(event.stateAfter)] : '',
    ),
    h(
      'p',
      { class: 'event-meta' },
      time(event.at),
      event.operationId ? [' · operation ', link(`#/operations/${enc(event.operationId)}`, event.operationId)] : '',
      event.errorCode !== null ? ` · error code ${event.errorCode}` : '',
      'requestedBy' in event ? ` · requested by ${text(event.requestedBy)}` : '',
    ),
  );
}

function historyView(ctx: PageContext, tokenId: string): HTMLElement {
  const list = h('ol', { class: 'timeline', 'aria-label': 'History, oldest first' });
  const more = h('div', { class: 'more' });
  let count = 0;
  const page = async (nextToken?: string): Promise<void> => {
    replace(more, loading(nextToken ? 'Loading more history…' : 'Loading history…'));
    try {
      const answer = await get<History>(`/v1/tokens/${enc(tokenId)}/history`, { limit: '20', nextToken });
      if (!ctx.alive()) return;
      count += answer.events.length;
      list.append(...answer.events.map(historyItem));
      if (count === 0) replace(more, empty('No history yet: no change has been recorded for this token.'));
      else if (answer.nextToken) {
        const token = answer.nextToken;
        replace(more, h('button', { type: 'button', class: 'secondary', onclick: () => void page(token) }, 'Load more history'));
      } else replace(more);
    } catch (err) {
      if (ctx.alive()) replace(more, errorView(err, { notFound: `No token ${tokenId}.`, retry: () => void page(nextToken) }));
    }
  };
  void page();
  return h('div', {}, list, more);
}

function actionsForm(token: Token, onSubmit: (action: Action, reason: string | undefined) => Promise<void>): HTMLElement {
  const actions = allowedActions(token.state);
  if (actions.length === 0) return h('p', { class: 'empty', 'data-testid': 'no-actions' }, `This token is ${token.state}: no action is possible.`);
  const reason = h('input', { id: 'action-reason', name: 'reason', type: 'text', maxlength: 256, autocomplete: 'off', placeholder: 'e.g. lost phone' });
  const buttons = actions.map((action) =>
    h('button', { type: 'button', class: action === 'DELETE' ? 'danger' : '', 'data-action': action }, `${LABELS[action]} token`),
  );
  const form = h(
    'form',
    { class: 'actions', 'aria-label': 'Actions' },
    h('label', { for: 'action-reason' }, 'Reason (optional, kept with the operation)'),
    reason,
    h('div', { class: 'action-buttons' }, ...buttons),
  );
  form.addEventListener('submit', (event) => event.preventDefault());
  for (const [i, button] of buttons.entries()) {
    const action = actions[i]!;
    button.addEventListener('click', () => {
      void (async () => {
        if (buttons.some((b) => b.disabled)) return;
        buttons.forEach((b) => (b.disabled = true));
        try {
          if (action === 'DELETE') {
            const confirmed = await confirmDialog({
              title: `Delete token ${token.virtualCardId}?`,
              message: 'Deleting is final: the token stops working in the wallet and cannot be resumed.',
              confirm: 'Delete token',
              danger: true,
            });
            if (!confirmed) return;
          }
          await onSubmit(action, reason.value.trim() || undefined);
        } finally {
          buttons.forEach((b) => (b.disabled = false));
        }
      })();
    });
  }
  return form;
}

/** `#/tokens/{id}`: details, actions, the operation an action started (followed live) and the history timeline. */
export function tokenPage(main: HTMLElement, ctx: PageContext, tokenId: string | undefined): void {
  if (!tokenId) {
    replace(
      main,
      h('h1', {}, 'Token lookup'),
      lookupForm({ id: 'token-id', label: 'Token (virtualCardId)', placeholder: 'e.g. vc-1', button: 'Look up token', route: (v) => `#/tokens/${enc(v)}` }),
    );
    return;
  }
  const details = h('div');
  const operation = h('div', { 'aria-live': 'polite' });
  const operationSection = section('Latest action', operation);
  operationSection.hidden = true;
  const history = h('div');
  const historySection = section('History', history);
  // Shown once the token is found: an unknown token is one "not found", not two.
  historySection.hidden = true;
  replace(main, h('h1', {}, `Token ${tokenId}`), section('Details', details), operationSection, historySection);

  const refresh = (): void => {
    void load(
      details,
      ctx,
      () => get<Token>(`/v1/tokens/${enc(tokenId)}`),
      (token) => {
        historySection.hidden = false;
        replace(history, historyView(ctx, tokenId));
        return [
          tokenFacts(token),
          actionsForm(token, async (action, reason) => {
            operationSection.hidden = false;
            replace(operation, loading(`Sending ${action}…`));
            // One key per user action: a repeated click or a retry of this same request cannot start a second operation.
            const key = newIdempotencyKey();
            const body = { action, issuerCardRefId: token.issuerCardRefId, virtualCardId: token.virtualCardId, ...(reason ? { reason } : {}) };
            const send = async (): Promise<void> => {
              try {
                const op = await post<Operation>('/v1/lcm-operations', body, { 'idempotency-key': key });
                await followOperation(operation, ctx, op.operationId, op, () => {
                  refresh();
                });
              } catch (err) {
                if (ctx.alive()) replace(operation, errorView(err, { retry: () => void send() }));
              }
            };
            await send();
          }),
        ];
      },
      { notFound: `No token ${tokenId} is known. Tokens appear once D1 tells us about them.` },
    );
  };
  refresh();
}
