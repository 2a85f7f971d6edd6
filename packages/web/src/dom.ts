/**
 * A tiny DOM builder. User data only ever reaches the page as text nodes or attribute
 * values: there is no way to pass HTML through `h()`.
 *
 * @example
 * h('p', { class: 'note' }, 'Hello ', h('strong', {}, user.username));
 */
export type Child = Node | string | number | null | undefined | false;

type Handler = (event: Event) => void;

export interface Props {
  class?: string;
  /** Plain attributes, set with setAttribute (strings are never parsed as HTML). */
  [attribute: string]: string | number | boolean | Handler | undefined;
}

/** Creates an element; `on*` props become listeners, `true` booleans become empty attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'value' && 'value' in el) {
      (el as HTMLInputElement).value = String(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, ...children);
  return el;
}

/** Appends children, turning strings into text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/** A labelled form field: `<label>` + control, with the label tied to the control by id. */
export function field(label: string, control: HTMLInputElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  const id = control.id || uid('f');
  control.id = id;
  const hintEl = hint ? h('small', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

let counter = 0;
/** A page-unique id. */
export function uid(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

/**
 * Calls `submit` when the form is submitted, and on Enter in `input` (Shift+Enter makes a new
 * line; Enter that ends an IME composition does nothing).
 *
 * @example
 * submitOnEnter(form, textarea, () => send(textarea.value));
 */
export function submitOnEnter(form: HTMLFormElement, input: HTMLTextAreaElement, submit: () => void): void {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
}

/** Grows a text box with its text, up to 160 px. */
export function autosize(input: HTMLTextAreaElement): void {
  input.style.height = 'auto';
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

/** A status line that can show progress, errors or confirmations (announced politely). */
export function statusLine(): { el: HTMLElement; set(text: string, kind?: 'error' | 'ok' | 'info'): void } {
  const el = h('p', { class: 'status-line', role: 'status', 'aria-live': 'polite' });
  return {
    el,
    set(text, kind = 'info') {
      el.textContent = text;
      el.dataset.kind = kind;
      el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    },
  };
}
