import { FINAL_STATUSES, get, type Operation } from '../api';
import { badge, enc, facts, h, link, lookupForm, replace, text, time } from '../dom';
import { errorView, load, section, type PageContext } from '../ui';

export function operationView(op: Operation): HTMLElement {
  const final = FINAL_STATUSES.includes(op.status);
  const failure = op.failure
    ? [
        op.failure.reason,
        op.failure.responseCode !== undefined ? ` · D1 response code ${op.failure.responseCode}` : '',
        op.failure.errorCode !== undefined ? ` · error code ${op.failure.errorCode}` : '',
      ]
    : undefined;
  return h(
    'div',
    { class: 'operation', 'data-status': op.status },
    h('p', { class: 'op-status' }, 'Status: ', badge(op.status), final ? '' : h('span', { class: 'live' }, ' · following live…')),
    facts([
      ['Operation', link(`#/operations/${enc(op.operationId)}`, op.operationId)],
      ['Action', `${op.action} (${op.scope === 'TOKEN' ? 'one token' : 'whole card'})`],
      ['Card', link(`#/cards/${enc(op.issuerCardRefId)}`, op.issuerCardRefId)],
      ['Token', op.virtualCardId ? link(`#/tokens/${enc(op.virtualCardId)}`, op.virtualCardId) : 'every token of the card'],
      ['Submit attempts', String(op.submitAttempts)],
      ['Failure', failure ? h('span', { class: 'failure' }, ...failure) : undefined],
      ['Requested by', 'requestedBy' in op ? text(op.requestedBy ?? 'not recorded') : undefined],
      ['Bulk job', op.jobId ? link(`#/jobs/${enc(op.jobId)}`, op.jobId) : 'jobId' in op ? '—' : undefined],
      ['Correlation id', h('code', {}, op.correlationId)],
      ['Created', time(op.createdAt)],
      ['Updated', time(op.updatedAt)],
    ]),
    h('h3', {}, 'Per-token outcomes'),
    op.tokens.length === 0
      ? h('p', { class: 'empty' }, final ? 'No token reported.' : 'No token has reported yet.')
      : h(
          'ul',
          { class: 'outcomes' },
          ...op.tokens.map((token) =>
            h(
              'li',
              {},
              link(`#/tokens/${enc(token.virtualCardId)}`, token.virtualCardId),
              ' ',
              badge(token.outcome),
              token.errorCode !== undefined ? ` error code ${token.errorCode}` : '',
              ' · ',
              time(token.at),
            ),
          ),
        ),
  );
}

/** Polls `GET /v1/lcm-operations/{id}` into `target` until the status is final (or the page is left). */
export async function followOperation(
  target: HTMLElement,
  ctx: PageContext,
  operationId: string,
  first?: Operation,
  onFinal?: (op: Operation) => void,
): Promise<void> {
  let delay = 400;
  let op = first;
  for (;;) {
    if (!ctx.alive()) return;
    if (op) {
      replace(target, operationView(op));
      if (FINAL_STATUSES.includes(op.status)) {
        onFinal?.(op);
        return;
      }
    }
    if (op) await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(Math.round(delay * 1.5), 3000);
    try {
      op = await get<Operation>(`/v1/lcm-operations/${enc(operationId)}`);
    } catch (err) {
      if (!ctx.alive()) return;
      replace(
        target,
        errorView(err, { notFound: `No operation ${operationId}.`, retry: () => void followOperation(target, ctx, operationId, undefined, onFinal) }),
      );
      return;
    }
  }
}

/** `#/operations[/id]`: lookup by id, followed live while not final. */
export function operationsPage(main: HTMLElement, ctx: PageContext, operationId: string | undefined): void {
  const body = h('div', { class: 'results', 'aria-live': 'polite' });
  replace(
    main,
    h('h1', {}, operationId ? 'Operation' : 'Operation lookup'),
    lookupForm({
      id: 'operation-id',
      label: 'Operation id',
      placeholder: 'operationId',
      button: 'Look up operation',
      value: operationId,
      route: (v) => `#/operations/${enc(v)}`,
    }),
    body,
  );
  if (!operationId) return;
  const panel = h('div');
  body.append(section('Operation', panel));
  void load(
    panel,
    ctx,
    () => get<Operation>(`/v1/lcm-operations/${enc(operationId)}`),
    (op) => {
      const holder = h('div');
      void followOperation(holder, ctx, operationId, op);
      return holder;
    },
    { notFound: `No operation ${operationId}.` },
  );
}
