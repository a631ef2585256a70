// Slots from working hours: the calendar arithmetic of Schedule/$generate-slots — working days of
// the week, spans of working hours in clinic time, slot length, holidays — and the refusals that
// say what to fix.
import { describe, expect, it } from '@jest/globals';
import { planSlots } from '../../server/src/hospital/scheduling/slot-plan.js';

const WEEK = { from: '2026-12-07', to: '2026-12-13' }; // Monday to Sunday

describe('planSlots', () => {
  it('fills each working day\'s spans with whole slots, in clinic time', () => {
    const slots = planSlots({ ...WEEK, hours: ['08:30-10:00', '13:30-14:40'], slotMinutes: 30 }, '+08:00', 92);
    // Monday to Friday by default; 3 + 2 slots a day (14:30-15:00 would run past 14:40).
    expect(slots).toHaveLength(25);
    expect(slots.slice(0, 5).map((s) => s.start)).toEqual(['2026-12-07T08:30:00+08:00', '2026-12-07T09:00:00+08:00', '2026-12-07T09:30:00+08:00', '2026-12-07T13:30:00+08:00', '2026-12-07T14:00:00+08:00']);
    expect(slots[4].end).toBe('2026-12-07T14:30:00+08:00');
    expect(slots.at(-1)!.start.startsWith('2026-12-11')).toBe(true);
  });

  it('keeps to the weekdays asked for and skips holidays', () => {
    const slots = planSlots({ ...WEEK, hours: ['09:00-10:00'], slotMinutes: 60, weekdays: [6, 7], holidays: ['2026-12-13'] }, '+08:00', 92);
    expect(slots.map((s) => s.start)).toEqual(['2026-12-12T09:00:00+08:00']);
  });

  it('refuses what it cannot plan, saying what to fix', () => {
    const plan = (change: object, maxDays = 92) => () => planSlots({ ...WEEK, hours: ['08:00-12:00'], slotMinutes: 15, ...change }, '+08:00', maxDays);
    expect(plan({ to: '2026-12-01' })).toThrow(/before/);
    expect(plan({}, 3)).toThrow(/At most 3 days/);
    expect(plan({ hours: ['8-12'] })).toThrow(/08:30-11:30/);
    expect(plan({ hours: ['12:00-08:00'] })).toThrow(/ends before/);
    expect(plan({ slotMinutes: 2 })).toThrow(/5 to 240/);
    expect(plan({ weekdays: [8] })).toThrow(/1 \(Monday\)/);
    expect(plan({ from: '2026-02-30' })).toThrow(/dates/);
  });
});
