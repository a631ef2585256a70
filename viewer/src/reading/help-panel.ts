// The shortcut list (from the same table the keyboard handler uses), in a modal dialog.
import { t } from '../i18n/i18n.js';
import { el } from '../ui/dom.js';
import { keyLabel, type Shortcut } from './keyboard.js';
import type { MessageKey } from '../i18n/messages.js';

// Mouse actions, listed after the keys.
const MOUSE: [string, MessageKey][] = [
  ['🖱 wheel', 'keyWheel'],
  ['🖱 right / middle', 'keyRightDrag'],
];

export function helpDialog(shortcuts: () => Shortcut[]): { element: HTMLDialogElement; open(): void } {
  const dialog = el('dialog', { className: 'help', attrs: { 'data-testid': 'help' } });
  const open = () => {
    dialog.replaceChildren(
      el('h2', { text: t('help') }),
      el('table', {}, [
        el('tbody', {}, [
          ...shortcuts().map((s) => el('tr', {}, [el('th', { text: s.keys.map(keyLabel).join(' / ') }), el('td', { text: t(s.label) })])),
          ...MOUSE.map(([keys, label]) => el('tr', {}, [el('th', { text: keys }), el('td', { text: t(label) })])),
        ]),
      ]),
      el('button', { text: t('close'), attrs: { 'data-testid': 'help-close' }, on: { click: () => dialog.close() } }),
    );
    dialog.showModal();
  };
  return { element: dialog, open };
}
