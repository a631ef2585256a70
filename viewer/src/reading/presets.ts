// Window/level presets in Hounsfield units (width, centre), the values most CT reading rooms use.
import type { MessageKey } from '../i18n/messages.js';

export interface WindowPreset {
  id: 'lung' | 'mediastinum' | 'bone' | 'brain' | 'abdomen';
  label: MessageKey;
  width: number;
  center: number;
  /** The digit key that applies it. */
  key: string;
}

export const WINDOW_PRESETS: readonly WindowPreset[] = [
  { id: 'lung', label: 'presetLung', width: 1500, center: -600, key: '1' },
  { id: 'mediastinum', label: 'presetMediastinum', width: 350, center: 50, key: '2' },
  { id: 'bone', label: 'presetBone', width: 2000, center: 500, key: '3' },
  { id: 'brain', label: 'presetBrain', width: 80, center: 40, key: '4' },
  { id: 'abdomen', label: 'presetAbdomen', width: 400, center: 50, key: '5' },
];
