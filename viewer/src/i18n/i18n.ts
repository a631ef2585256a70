// The current language and text lookup. zh-CN unless the user chose English (remembered in
// localStorage: a preference, not patient data). Components subscribe to re-render their text.
import { MESSAGES, type Language, type MessageKey } from './messages.js';

const STORAGE_KEY = 'suhe.viewer.language';
const listeners = new Set<() => void>();
let current: Language = readStoredLanguage();

function readStoredLanguage(): Language {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

export function language(): Language {
  return current;
}

export function setLanguage(next: Language): void {
  if (next === current) return;
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Private windows may refuse storage; the choice then lasts for this page only.
  }
  document.documentElement.lang = next;
  for (const listener of listeners) listener();
}

/** Calls `listener` after every language change; returns the unsubscribe function. */
export function onLanguageChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The text for `key` in the current language, with {name} placeholders filled in. */
export function t(key: MessageKey, values: Record<string, string | number> = {}): string {
  const template: string = MESSAGES[key][current];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
