// Building DOM without HTML strings: every text goes in through textContent or an attribute, so
// patient names and other values from DICOM can never become markup (and the CSP forbids inline
// script anyway). Elements created with an i18n key are re-translated by translateTree.
import { t } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';

type Child = Node | string | null | undefined | false;

export interface ElementProps {
  className?: string;
  text?: string;
  /** Text from the dictionary; kept up to date by translateTree. */
  i18n?: MessageKey;
  i18nValues?: Record<string, string | number>;
  /** Attributes from the dictionary, e.g. { title: 'help', 'aria-label': 'help' }. */
  i18nAttrs?: Record<string, MessageKey>;
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: { [K in keyof HTMLElementEventMap]?: (event: HTMLElementEventMap[K]) => void };
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: ElementProps = {}, children: Child[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  if (props.i18n) setText(node, props.i18n, props.i18nValues);
  else if (props.text !== undefined) node.textContent = props.text;
  if (props.i18nAttrs) {
    node.dataset.i18nAttrs = JSON.stringify(props.i18nAttrs);
    translateAttributes(node);
  }
  for (const [type, handler] of Object.entries(props.on ?? {})) node.addEventListener(type, handler as EventListener);
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

/** Sets a node's text from the dictionary and remembers the key for later language changes. */
export function setText(node: HTMLElement, key: MessageKey, values?: Record<string, string | number>): void {
  node.dataset.i18n = key;
  if (values) node.dataset.i18nValues = JSON.stringify(values);
  else delete node.dataset.i18nValues;
  node.textContent = t(key, values);
}

function translateAttributes(node: HTMLElement): void {
  const attrs = JSON.parse(node.dataset.i18nAttrs ?? '{}') as Record<string, MessageKey>;
  for (const [name, key] of Object.entries(attrs)) node.setAttribute(name, t(key));
}

/** Re-applies the dictionary to every translated node under root (after a language change). */
export function translateTree(root: ParentNode): void {
  for (const node of root.querySelectorAll<HTMLElement>('[data-i18n]')) {
    node.textContent = t(node.dataset.i18n as MessageKey, node.dataset.i18nValues ? JSON.parse(node.dataset.i18nValues) : undefined);
  }
  for (const node of root.querySelectorAll<HTMLElement>('[data-i18n-attrs]')) translateAttributes(node);
}

export function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}
