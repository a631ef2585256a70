// Keyboard shortcuts of the reading screen. The same table feeds the help panel, so the list
// the user sees is the list that works. Keys typed into form fields are left to the field.
import type { MessageKey } from '../i18n/messages.js';

export interface Shortcut {
  keys: string[];
  label: MessageKey;
  run: () => void;
}

export function handleShortcut(event: KeyboardEvent, shortcuts: Shortcut[]): boolean {
  const target = event.target as HTMLElement | null;
  if (target && (target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA' || target.isContentEditable)) return false;
  if (event.altKey || event.metaKey || event.ctrlKey) return false;
  // The space bar presses a focused button or link, as keyboard users expect; elsewhere it is a shortcut.
  if (event.key === ' ' && target && (target.tagName === 'BUTTON' || target.tagName === 'A' || target.tagName === 'SUMMARY')) return false;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  const shortcut = shortcuts.find((s) => s.keys.includes(key));
  if (!shortcut) return false;
  event.preventDefault();
  shortcut.run();
  return true;
}

/** How a key is written in the help panel. */
export function keyLabel(key: string): string {
  const names: Record<string, string> = { ArrowUp: '↑', ArrowDown: '↓', ArrowLeft: '←', ArrowRight: '→', PageUp: 'PgUp', PageDown: 'PgDn', Escape: 'Esc', ' ': 'Space' };
  return names[key] ?? (key.length === 1 ? key.toUpperCase() : key);
}
