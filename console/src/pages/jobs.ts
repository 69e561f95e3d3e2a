import { get, post, type Job, type JobCards } from '../api';
import { badge, confirmDialog, empty, enc, facts, h, link, loading, lookupForm, replace, text, time } from '../dom';
import { errorView, load, section, type PageContext } from '../ui';

const CARD_STATUSES = ['QUEUED', 'IN_FLIGHT', 'SUCCEEDED', 'PARTIALLY_FAILED', 'FAILED'];

function jobView(job: Job, onCancelled: () => void): HTMLElement {
  const counts = job.counts;
  const cancellable = job.status === 'PENDING' || job.status === 'RUNNING';
  const cancel = h('button', { type: 'button', class: 'danger' }, 'Cancel job');
  const outcome = h('div', { 'aria-live': 'polite' });
  cancel.addEventListener('click', () => {
    void (async () => {
      const confirmed = await confirmDialog({
        title: `Cancel job ${job.jobId}?`,
        message: 'No new operation is started; those already in flight finish.',
        confirm: 'Cancel job',
        dismiss: 'Keep the job',
        danger: true,
      });
      if (!confirmed) return;
      cancel.disabled = true;
      try {
        await post<Job>(`/v1/lcm-jobs/${enc(job.jobId)}/cancel`, {});
        onCancelled();
      } catch (err) {
        cancel.disabled = false;
        replace(outcome, errorView(err));
      }
    })();
  });
  return h(
    'div',
    {},
    facts([
      ['Status', badge(job.status)],
      ['Action', job.action],
      ['Reason', text(job.reason)],
      ['Created', time(job.createdAt)],
      ['Started', time(job.startedAt)],
      ['Completed', time(job.completedAt)],
      ['Updated', time(job.updatedAt)],
    ]),
    h(
      'ul',
      { class: 'counts', 'aria-label': 'Counts' },
      ...(
        [
          ['cards', counts.cards],
          ['started', counts.started],
          ['in flight', counts.inFlight],
          ['succeeded', counts.SUCCEEDED],
          ['partially failed', counts.PARTIALLY_FAILED],
          ['failed', counts.FAILED],
        ] as const
      ).map(([label, value]) => h('li', {}, h('span', { class: 'count' }, String(value)), ' ', label)),
    ),
    cancellable ? h('div', { class: 'action-buttons' }, cancel) : null,
    outcome,
  );
}

function jobCardsView(ctx: PageContext, jobId: string): HTMLElement {
  const select = h(
    'select',
    { id: 'job-card-status', name: 'status' },
    h('option', { value: '' }, 'all'),
    ...CARD_STATUSES.map((s) => h('option', { value: s }, s)),
  );
  const list = h('ul', { class: 'items compact', 'aria-label': 'Cards of the job' });
  const more = h('div', { class: 'more' });
  let generation = 0;
  const page = async (nextToken?: string): Promise<void> => {
    const mine = generation;
    replace(more, loading('Loading cards…'));
    try {
      const answer = await get<JobCards>(`/v1/lcm-jobs/${enc(jobId)}/cards`, { status: select.value || undefined, limit: '50', nextToken });
      if (!ctx.alive() || mine !== generation) return;
      list.append(
        ...answer.cards.map((card) =>
          h(
            'li',
            { class: 'item' },
            link(`#/cards/${enc(card.issuerCardRefId)}`, card.issuerCardRefId),
            ' ',
            badge(card.status),
            card.operationId ? [' · ', link(`#/operations/${enc(card.operationId)}`, 'operation')] : '',
          ),
        ),
      );
      if (list.childElementCount === 0) replace(more, empty(select.value ? `No card is ${select.value}.` : 'This job has no cards yet.'));
      else if (answer.nextToken) {
        const token = answer.nextToken;
        replace(more, h('button', { type: 'button', class: 'secondary', onclick: () => void page(token) }, 'Load more cards'));
      } else replace(more);
    } catch (err) {
      if (ctx.alive() && mine === generation) replace(more, errorView(err, { retry: () => void page(nextToken) }));
    }
  };
  select.addEventListener('change', () => {
    generation += 1;
    list.replaceChildren();
    void page();
  });
  void page();
  return h('div', {}, h('div', { class: 'filter' }, h('label', { for: 'job-card-status' }, 'Card status'), select), list, more);
}

/** `#/jobs[/id]`: a bulk job's status and counts, its cards by status, and cancel. */
export function jobsPage(main: HTMLElement, ctx: PageContext, jobId: string | undefined): void {
  const body = h('div', { class: 'results' });
  replace(
    main,
    h('h1', {}, jobId ? `Bulk job ${jobId}` : 'Bulk job lookup'),
    lookupForm({ id: 'job-id', label: 'Job id', placeholder: 'jobId', button: 'Look up job', value: jobId, route: (v) => `#/jobs/${enc(v)}` }),
    body,
  );
  if (!jobId) return;
  const panel = h('div');
  const cards = h('div');
  body.append(section('Job', panel), section('Cards', cards));
  const refresh = (): void => {
    void load(
      panel,
      ctx,
      () => get<Job>(`/v1/lcm-jobs/${enc(jobId)}`),
      (job) => jobView(job, refresh),
      { notFound: `No bulk job ${jobId}.` },
    );
  };
  refresh();
  replace(cards, jobCardsView(ctx, jobId));
}
