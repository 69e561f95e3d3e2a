/** The operations console: hash routes over the public API, a mode banner from config.json. */
import './style.css';
import { useTransport, type ConsoleConfig } from './api';
import { h, replace } from './dom';
import { errorView, type PageContext } from './ui';
import { cardsPage } from './pages/cards';
import { jobsPage } from './pages/jobs';
import { networkTokenPage } from './pages/network-token';
import { operationsPage } from './pages/operation';
import { subscriptionsPage } from './pages/subscriptions';
import { tokenPage } from './pages/token';

type Page = (main: HTMLElement, ctx: PageContext, id: string | undefined) => void;

const ROUTES: Record<string, Page> = {
  cards: cardsPage,
  tokens: tokenPage,
  operations: operationsPage,
  'network-tokens': networkTokenPage,
  jobs: jobsPage,
  subscriptions: (main, ctx) => subscriptionsPage(main, ctx),
};
/** Which nav entry a route belongs to (a token is reached from its card). */
const NAV_OF: Record<string, string> = { tokens: 'cards' };

let generation = 0;

function route(): void {
  const main = document.getElementById('main')!;
  const [name = 'cards', rawId] = location.hash.replace(/^#\/?/, '').split('/');
  const page = ROUTES[name];
  const mine = ++generation;
  const ctx: PageContext = { alive: () => mine === generation };
  for (const anchor of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    if (anchor.dataset.nav === (NAV_OF[name] ?? name)) anchor.setAttribute('aria-current', 'page');
    else anchor.removeAttribute('aria-current');
  }
  if (!page) {
    replace(main, h('h1', {}, 'Page not found'), h('p', {}, 'No such page. ', h('a', { href: '#/cards' }, 'Go to card lookup')));
    return;
  }
  let id: string | undefined;
  try {
    id = rawId ? decodeURIComponent(rawId) : undefined;
  } catch {
    id = rawId;
  }
  page(main, ctx, id);
  document.title = `${main.querySelector('h1')?.textContent ?? 'Console'} · token-lifecycle console`;
}

async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch(new URL('config.json', location.href), { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`config.json answered ${response.status}`);
  return (await response.json()) as ConsoleConfig;
}

async function start(): Promise<void> {
  const banner = document.getElementById('mode-banner')!;
  const main = document.getElementById('main')!;
  // The skip link moves focus without touching the hash (which holds the route).
  document.querySelector('.skip-link')?.addEventListener('click', (event) => {
    event.preventDefault();
    main.focus();
  });
  let config: ConsoleConfig;
  try {
    config = await loadConfig();
  } catch (err) {
    banner.textContent = 'Configuration could not be loaded.';
    replace(main, h('h1', {}, 'Console unavailable'), errorView(err, { retry: () => location.reload() }));
    return;
  }
  if (config.mode === 'aws') {
    // Only AWS mode needs the sign-in and signing code; locally it is never loaded.
    const aws = await import('./aws');
    try {
      const session = await aws.startAwsSession(config, useTransport);
      if (!session) {
        replace(banner, `AWS mode (${config.region}): sign in to use the console. `);
        const button = h('button', { type: 'button', onclick: () => void aws.signIn(config as Extract<ConsoleConfig, { mode: 'aws' }>) }, 'Sign in');
        banner.append(button);
        replace(main, h('h1', {}, 'Sign in'), h('p', {}, 'Every request is signed with your identity; sign in first.'), button.cloneNode(true));
        main.querySelector('button')?.addEventListener('click', () => void aws.signIn(config as Extract<ConsoleConfig, { mode: 'aws' }>));
        return;
      }
      replace(
        banner,
        `AWS mode (${config.region}): signed in as ${session.user}; requests are signed (SigV4). `,
        h('button', { type: 'button', class: 'secondary', onclick: () => aws.signOut(config as Extract<ConsoleConfig, { mode: 'aws' }>) }, 'Sign out'),
      );
    } catch (err) {
      replace(
        banner,
        'AWS mode: sign-in failed. ',
        h('button', { type: 'button', onclick: () => void aws.signIn(config as Extract<ConsoleConfig, { mode: 'aws' }>) }, 'Sign in again'),
      );
      replace(main, h('h1', {}, 'Sign-in failed'), errorView(err));
      return;
    }
  } else {
    banner.textContent = 'Local mode: no sign-in; requests are not signed.';
    banner.classList.add('mode-local');
  }
  window.addEventListener('hashchange', route);
  route();
}

void start();
