// The cine controls in the toolbar: a play/stop button (and the space bar) and the rate, a
// number from 1 to 60 frames per second. The button's data-playing and the viewport's
// data-index say what is happening, for assistive technology and the browser tests.
import { t } from '../i18n/i18n.js';
import { el } from '../ui/dom.js';
import { CINE_MAX_FPS, CINE_MIN_FPS, clampFps, type Cine } from './cine.js';
import { icon } from './icons.js';
import type { Shortcut } from './keyboard.js';

/** What the controls drive: a cine player (in a layout, the active cell's). */
export type CineControl = Pick<Cine, 'fps' | 'playing' | 'toggle' | 'onChange'>;

export function cineControls(cine: CineControl): { element: HTMLElement; shortcuts: Shortcut[] } {
  const button = el('button', { className: 'icon-button', attrs: { 'data-testid': 'cine-toggle', 'aria-keyshortcuts': 'Space', 'data-playing': 'false' }, on: { click: () => cine.toggle() } });
  const fps = el('input', {
    className: 'fps',
    attrs: { type: 'number', min: CINE_MIN_FPS, max: CINE_MAX_FPS, step: 1, value: cine.fps, 'data-testid': 'cine-fps' },
    i18nAttrs: { title: 'cineFps', 'aria-label': 'cineFps' },
    on: {
      input: () => {
        const value = Number(fps.value);
        if (fps.value !== '' && value >= CINE_MIN_FPS && value <= CINE_MAX_FPS) cine.fps = value;
      },
      change: () => {
        cine.fps = clampFps(Number(fps.value));
        fps.value = String(cine.fps);
      },
    },
  });
  const unit = el('span', { className: 'fps-unit', i18n: 'cineFpsUnit' });
  const render = () => {
    const key = cine.playing ? 'cineStop' : 'cinePlay';
    button.replaceChildren(icon(cine.playing ? 'stop' : 'play'));
    button.dataset.i18nAttrs = JSON.stringify({ title: key, 'aria-label': key });
    button.title = t(key);
    button.setAttribute('aria-label', t(key));
    button.dataset.playing = String(cine.playing);
    button.setAttribute('aria-pressed', String(cine.playing));
  };
  cine.onChange(render);
  render();
  return {
    element: el('span', { className: 'group cine' }, [button, fps, unit]),
    shortcuts: [{ keys: [' '], label: 'cinePlayStop', run: () => cine.toggle() }],
  };
}
