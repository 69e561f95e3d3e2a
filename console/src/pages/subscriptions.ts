import { get, type Subscription } from '../api';
import { empty, facts, h, replace, text, time } from '../dom';
import { load, section, type PageContext } from '../ui';

/** `#/subscriptions`: the webhook subscriptions, read-only (secrets are never listed by the API). */
export function subscriptionsPage(main: HTMLElement, ctx: PageContext): void {
  const panel = h('div');
  replace(main, h('h1', {}, 'Event subscriptions'), section('Subscriptions', panel));
  void load(
    panel,
    ctx,
    () => get<{ subscriptions: Subscription[] }>('/v1/event-subscriptions'),
    ({ subscriptions }) =>
      subscriptions.length === 0
        ? empty('No subscription yet. Subscribe with POST /v1/event-subscriptions (see docs/events.md).')
        : h(
            'ul',
            { class: 'items', 'aria-label': 'Subscriptions' },
            ...subscriptions.map((sub) =>
              h(
                'li',
                { class: 'item' },
                h('h3', { class: 'item-title' }, h('code', { class: 'wrap' }, sub.url)),
                facts([
                  ['Id', h('code', {}, sub.subscriptionId)],
                  ['Event types', sub.eventTypes.join(', ')],
                  ['Description', text(sub.description)],
                  ['Created', time(sub.createdAt)],
                ]),
              ),
            ),
          ),
  );
}
