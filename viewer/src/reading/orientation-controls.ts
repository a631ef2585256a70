// The rotate and flip buttons and their shortcuts ([ and ] turn the image a quarter left or
// right, F mirrors it left to right, U upside down, as seen on screen; see orientation.ts). The
// viewport keeps rotation and flips across alike slices, as it keeps zoom; reset undoes them.
import { el } from '../ui/dom.js';
import type { MessageKey } from '../i18n/messages.js';
import { icon, type IconName } from './icons.js';
import type { Shortcut } from './keyboard.js';
import { flipped, rotated, type Orientation } from './orientation.js';
import type { StackViewport } from './stack-viewport.js';

interface OrientationAction {
  id: string;
  label: MessageKey;
  icon: IconName;
  key: string;
  change: (current: Orientation) => Orientation;
}

const ACTIONS: readonly OrientationAction[] = [
  { id: 'rotate-left', label: 'rotateLeft', icon: 'rotateLeft', key: '[', change: (o) => rotated(o, 'left') },
  { id: 'rotate-right', label: 'rotateRight', icon: 'rotateRight', key: ']', change: (o) => rotated(o, 'right') },
  { id: 'flip-horizontal', label: 'flipHorizontal', icon: 'flipHorizontal', key: 'f', change: (o) => flipped(o, 'horizontal') },
  { id: 'flip-vertical', label: 'flipVertical', icon: 'flipVertical', key: 'u', change: (o) => flipped(o, 'vertical') },
];

/** `viewport`: the one the buttons act on (the active cell's, in a layout). */
export function orientationControls(viewport: Pick<StackViewport, 'viewport' | 'setViewport'>): { buttons: HTMLElement[]; shortcuts: Shortcut[] } {
  const apply = (action: OrientationAction) => {
    const current = viewport.viewport();
    if (!current) return;
    const { rotation, hflip, vflip } = action.change({ rotation: current.rotation ?? 0, hflip: Boolean(current.hflip), vflip: Boolean(current.vflip) });
    viewport.setViewport({ rotation, hflip, vflip });
  };
  return {
    buttons: ACTIONS.map((action) =>
      el('button', { className: 'icon-button', attrs: { 'data-testid': action.id, 'aria-keyshortcuts': action.key }, i18nAttrs: { title: action.label, 'aria-label': action.label }, on: { click: () => apply(action) } }, [icon(action.icon)]),
    ),
    shortcuts: ACTIONS.map((action) => ({ keys: [action.key], label: action.label, run: () => apply(action) })),
  };
}
