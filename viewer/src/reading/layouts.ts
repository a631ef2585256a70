// The reading layouts: one viewport, two side by side (1×2, e.g. today's study beside a prior
// series), or four (2×2). The grid's CSS places the cells from data-layout.
import type { MessageKey } from '../i18n/messages.js';
import type { IconName } from './icons.js';

export interface Layout {
  id: '1x1' | '1x2' | '2x2';
  cells: number;
  label: MessageKey;
  icon: IconName;
}

export const LAYOUTS: readonly Layout[] = [
  { id: '1x1', cells: 1, label: 'layout1x1', icon: 'layout1x1' },
  { id: '1x2', cells: 2, label: 'layout1x2', icon: 'layout1x2' },
  { id: '2x2', cells: 4, label: 'layout2x2', icon: 'layout2x2' },
];
