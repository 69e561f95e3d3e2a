/** Loading, error and page scaffolding shared by the pages. */
import { ApiError, NetworkError } from './api';
import { append, h, loading, replace } from './dom';

export interface PageContext {
  /** False once the user navigated elsewhere: pollers and late answers stop touching the page. */
  alive(): boolean;
}

/** An error as the user should read it: 404 "not found", the API's code, message and fields, or "no answer". */
export function errorView(err: unknown, options: { notFound?: string; retry?: () => void } = {}): HTMLElement {
  const box = h('div', { class: 'error', role: 'alert' });
  if (err instanceof ApiError && err.status === 404) {
    box.append(h('p', { class: 'error-title' }, 'Not found'), h('p', {}, options.notFound ?? err.message));
  } else if (err instanceof ApiError) {
    append(box, [
      h('p', { class: 'error-title' }, `${err.status} ${err.code}`),
      h('p', {}, err.message),
      err.fields.length > 0
        ? h('ul', { class: 'error-fields' }, ...err.fields.map((field) => h('li', {}, h('code', {}, field.path || '(body)'), ': ', field.message)))
        : null,
      err.details !== undefined && err.details !== null ? h('pre', { class: 'error-details' }, JSON.stringify(err.details, null, 2)) : null,
    ]);
  } else if (err instanceof NetworkError) {
    box.append(
      h('p', { class: 'error-title' }, 'No answer from the service'),
      h('p', {}, `${err.message}. Check your connection or that the service is running, then try again.`),
    );
  } else {
    box.append(h('p', { class: 'error-title' }, 'Something went wrong'), h('p', {}, err instanceof Error ? err.message : String(err)));
  }
  if (options.retry) box.append(h('button', { type: 'button', class: 'secondary', onclick: options.retry }, 'Try again'));
  return box;
}

/** Shows a loading state in `target`, then what `render` builds from the answer, or the error. */
export async function load<T>(
  target: HTMLElement,
  ctx: PageContext,
  fetcher: () => Promise<T>,
  render: (value: T) => Node | Node[],
  options: { notFound?: string; label?: string } = {},
): Promise<void> {
  replace(target, loading(options.label));
  target.setAttribute('aria-busy', 'true');
  try {
    const value = await fetcher();
    if (!ctx.alive()) return;
    const rendered = render(value);
    replace(target, ...(Array.isArray(rendered) ? rendered : [rendered]));
  } catch (err) {
    if (!ctx.alive()) return;
    replace(target, errorView(err, { ...options, retry: () => void load(target, ctx, fetcher, render, options) }));
  } finally {
    target.removeAttribute('aria-busy');
  }
}

export function section(title: string, ...children: Array<Node | null>): HTMLElement {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}
