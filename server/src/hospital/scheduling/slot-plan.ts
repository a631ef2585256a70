// Which slots a schedule gets: from a date range, the working days of the week, the working
// hours (local clinic time), a slot length and holidays — the days the clinic is shut. Pure, so
// the calendar arithmetic is unit-tested; the operation (schedule-operations.ts) stores them.
import { Invalid } from '../../fhir/errors.js';

export interface SlotPlanRequest {
  /** First and last day, YYYY-MM-DD (local), inclusive. */
  from: string;
  to: string;
  /** e.g. ["08:30-11:30", "13:30-16:30"] */
  hours: string[];
  slotMinutes: number;
  /** ISO weekdays 1 (Monday) … 7 (Sunday); Monday to Friday by default. */
  weekdays?: number[];
  /** Days without slots, YYYY-MM-DD. */
  holidays?: string[];
}

export interface PlannedSlot {
  /** Instants with the clinic's offset, e.g. 2026-12-01T08:30:00+08:00. */
  start: string;
  end: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const SPAN = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

export function planSlots(request: SlotPlanRequest, timeZone: string, maxDays: number): PlannedSlot[] {
  const { from, to, slotMinutes } = request;
  if (!isDay(from) || !isDay(to)) throw new Invalid('from and to must be dates (YYYY-MM-DD)');
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  if (days < 1) throw new Invalid('to must not be before from');
  if (days > maxDays) throw new Invalid(`At most ${maxDays} days of slots at once (asked for ${days})`);
  if (!Number.isInteger(slotMinutes) || slotMinutes < 5 || slotMinutes > 240) throw new Invalid('slotMinutes must be a whole number of minutes from 5 to 240');
  if (!request.hours.length) throw new Invalid('hours must list the working hours, e.g. "08:30-11:30"');
  const spans = request.hours.map((h) => {
    const m = SPAN.exec(h);
    if (!m) throw new Invalid(`'${h}' is not a span of working hours like 08:30-11:30`);
    const [start, end] = [Number(m[1]) * 60 + Number(m[2]), Number(m[3]) * 60 + Number(m[4])];
    if (end <= start) throw new Invalid(`'${h}' ends before it starts`);
    return { start, end };
  });
  const weekdays = new Set(request.weekdays ?? [1, 2, 3, 4, 5]);
  if ([...weekdays].some((d) => !Number.isInteger(d) || d < 1 || d > 7)) throw new Invalid('weekdays are 1 (Monday) to 7 (Sunday)');
  const holidays = new Set(request.holidays ?? []);
  const slots: PlannedSlot[] = [];
  for (let i = 0; i < days; i++) {
    const date = new Date(Date.parse(`${from}T00:00:00Z`) + i * 86_400_000);
    const day = date.toISOString().slice(0, 10);
    const weekday = date.getUTCDay() === 0 ? 7 : date.getUTCDay();
    if (!weekdays.has(weekday) || holidays.has(day)) continue;
    for (const span of spans) {
      for (let minute = span.start; minute + slotMinutes <= span.end; minute += slotMinutes) {
        slots.push({ start: localInstant(day, minute, timeZone), end: localInstant(day, minute + slotMinutes, timeZone) });
      }
    }
  }
  return slots;
}

/** A real calendar day (Date.parse would roll 2026-02-30 over into March). */
function isDay(text: string): boolean {
  if (!DAY.test(text)) return false;
  const parsed = Date.parse(`${text}T00:00:00Z`);
  return !Number.isNaN(parsed) && new Date(parsed).toISOString().slice(0, 10) === text;
}

function localInstant(day: string, minutes: number, timeZone: string): string {
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${day}T${hh}:${mm}:00${timeZone}`;
}
