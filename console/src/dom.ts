/** A few DOM helpers: elements are built with `h`, never from HTML strings, so API data is always text. */

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') element.addEventListener(name.replace(/^on/, '').toLowerCase(), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** "4 Dec 2026, 02:14:05 UTC" — operators compare times across systems, so UTC, with the ISO value as a tooltip. */
export function time(iso: string | null | undefined): Node {
  if (!iso) return document.createTextNode('—');
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return document.createTextNode(iso);
  const text = `${date.toLocaleString('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })} UTC`;
  return h('time', { datetime: iso, title: iso }, text);
}

export function text(value: string | number | null | undefined): string {
  return value === null || value === undefined || value === '' ? '—' : String(value);
}

/** A state or status as a labelled badge; the colour is decoration, the word carries the meaning. */
export function badge(value: string | null | undefined): HTMLElement {
  const word = value ?? 'UNKNOWN';
  return h('span', { class: `badge badge-${word.toLowerCase().replace(/_/g, '-')}` }, word);
}

/** A definition list of label/value pairs; pairs whose value is undefined are left out (fields the API did not send). */
export function facts(pairs: Array<[string, Child | undefined]>): HTMLDListElement {
  const list = h('dl', { class: 'facts' });
  for (const [label, value] of pairs) {
    if (value === undefined) continue;
    list.append(h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, value)));
  }
  return list;
}

export function loading(label = 'Loading…'): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, label);
}

export function empty(message: string): HTMLElement {
  return h('p', { class: 'empty' }, message);
}

export function link(href: string, label: string): HTMLAnchorElement {
  return h('a', { href }, label);
}

export const enc = encodeURIComponent;

/** A labelled single-field lookup form; submitting navigates to `route(value)`. */
export function lookupForm(options: {
  id: string;
  label: string;
  placeholder: string;
  button: string;
  value?: string;
  route: (value: string) => string;
}): HTMLFormElement {
  const input = h('input', {
    id: options.id,
    name: options.id,
    type: 'text',
    required: true,
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: options.placeholder,
    value: options.value ?? '',
  });
  const form = h(
    'form',
    { class: 'lookup', role: 'search' },
    h('label', { for: options.id }, options.label),
    h('div', { class: 'lookup-row' }, input, h('button', { type: 'submit' }, options.button)),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = input.value.trim();
    if (value) location.hash = options.route(value);
  });
  return form;
}

/** A modal confirmation (native <dialog>): resolves true on confirm, false on cancel or Escape. */
export function confirmDialog(options: { title: string; message: string; confirm: string; dismiss?: string; danger?: boolean }): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = `dialog-title-${Math.random().toString(36).slice(2)}`;
    const cancel = h('button', { type: 'button', class: 'secondary', value: 'cancel' }, options.dismiss ?? 'Cancel');
    const ok = h('button', { type: 'button', class: options.danger ? 'danger' : '', value: 'confirm' }, options.confirm);
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, options.title),
      h('p', {}, options.message),
      h('div', { class: 'dialog-actions' }, cancel, ok),
    );
    let answered = false;
    const close = (answer: boolean): void => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    cancel.addEventListener('click', () => close(false));
    ok.addEventListener('click', () => close(true));
    dialog.addEventListener('cancel', () => close(false));
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
