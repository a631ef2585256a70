// How the hospital pages show times, names and appointment states.
import { language, t } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';

/** A FHIR instant in the reader's locale: date, hour and minute. */
export function when(instant: string | undefined): string {
  if (!instant) return '';
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  return date.toLocaleString(language(), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}

/** A HumanName as people write it: Chinese family name first without a space. */
export function personName(resource: object | undefined): string | undefined {
  const name = ((resource as { name?: unknown } | undefined)?.name as { text?: string; family?: string; given?: string[] }[] | undefined)?.[0];
  if (!name) return undefined;
  if (name.text) return name.text;
  const given = (name.given ?? []).join(' ');
  return /[\u4e00-\u9fff]/.test(`${name.family ?? ''}${given}`) ? `${name.family ?? ''}${given}` : [given, name.family].filter(Boolean).join(' ');
}

const STATUSES = ['booked', 'arrived', 'fulfilled', 'cancelled', 'noshow'] as const;

export function appointmentStatusKey(status: string | undefined): MessageKey {
  return (STATUSES as readonly string[]).includes(status ?? '') ? (`appointmentStatus_${status}` as MessageKey) : 'appointmentStatus_other';
}

/** YYYY-MM-DD of a date in this browser's time zone. */
export function localDay(date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The instant a local day starts, with this browser's offset (for FHIR date searches). */
export function dayStart(day: string, plusDays = 0): string {
  const [y, m, d] = day.split('-').map(Number);
  const start = new Date(y, m - 1, d + plusDays);
  const offset = -start.getTimezoneOffset();
  const sign = offset >= 0 ? '+' : '-';
  const pad = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0');
  return `${localDay(start)}T00:00:00${sign}${pad(offset / 60)}:${pad(offset % 60)}`;
}

/** The text for a refusal or failure, for an alert. */
export function failureText(err: unknown, refused: boolean): string {
  const message = (err as Error)?.message ?? String(err);
  return refused ? `${t('hospitalRefused')}${message}` : t('hospitalFailed', { reason: message });
}

/** Plain text (a value, or the hub's own words) in a node that may have shown a dictionary text. */
export function showText(node: HTMLElement, text: string): void {
  delete node.dataset.i18n;
  delete node.dataset.i18nValues;
  node.textContent = text;
}
