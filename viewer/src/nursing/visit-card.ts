// One visit of the nurse: the patient, address, items and scheduled start, and what the nurse
// does — 签到 check in ($check-in with the position), 签退 check out ($check-out: the care record,
// required, and the items performed), and the prominent one-tap 一键报警 alarm ($alarm with the
// position when the browser gives one at once), confirmed with how many duty desks got it.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import { failureText, personName, showText, when } from '../hospital/format.js';
import { isRefusal, operation, read, type Parameter } from '../hospital/hospital-api.js';
import { addressOf, eventTime, itemName, itemsOf, type Order, type Task } from './nursing-codes.js';
import { browserPosition, manualPosition, positionParameter, type Position } from './position.js';

export async function visitCard(app: AppContext, task: Task, onChanged: () => void): Promise<HTMLElement> {
  const orderRef = task.basedOn?.find((b) => b.reference?.startsWith('ServiceRequest/'))?.reference ?? '';
  const [order, patient] = await Promise.all([
    read<Order>(app, orderRef).catch(() => undefined),
    task.for?.reference ? read(app, task.for.reference).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  const items = order ? itemsOf(order) : [];
  const outcome = el('p', { attrs: { role: 'status', 'data-testid': 'visit-outcome' } });
  const fail = (err: unknown) => {
    outcome.className = 'error';
    showText(outcome, failureText(err, isRefusal(err)));
  };

  // The position: the browser's, or typed in when it cannot give one.
  const lat = el('input', { attrs: { type: 'number', step: 'any', min: -90, max: 90, 'data-testid': 'visit-latitude' } });
  const lng = el('input', { attrs: { type: 'number', step: 'any', min: -180, max: 180, 'data-testid': 'visit-longitude' } });
  const manual = el('div', { className: 'manual-position', attrs: { 'data-testid': 'visit-manual-position', hidden: true } }, [
    el('span', { i18n: 'nursingManualPosition' }),
    el('label', {}, [el('span', { i18n: 'nursingLatitude' }), lat]),
    el('label', {}, [el('span', { i18n: 'nursingLongitude' }), lng]),
  ]);
  const position = async (timeoutMs: number): Promise<Position> => {
    const typed = manualPosition(lat.value, lng.value);
    if (typed) return typed;
    try {
      return await browserPosition(timeoutMs);
    } catch (err) {
      manual.hidden = false;
      throw err;
    }
  };
  const needPosition = () => {
    outcome.className = 'error';
    setText(outcome, 'nursingNoPosition');
  };

  const checkIn = el('button', { className: 'primary', i18n: 'nursingCheckIn', attrs: { type: 'button', 'data-testid': 'visit-check-in', hidden: task.status !== 'accepted' } });
  checkIn.addEventListener('click', () => {
    checkIn.disabled = true;
    position(10_000)
      .then((p) => operation(app, `Task/${task.id}/$check-in`, [positionParameter(p)]).then(onChanged, fail), needPosition)
      .finally(() => (checkIn.disabled = false));
  });

  // Check-out: the care record and the items performed.
  const care = el('textarea', { attrs: { rows: 2, maxlength: 4000, 'data-testid': 'visit-care' } });
  const performed = items.map((code) => el('label', { className: 'inline' }, [el('input', { attrs: { type: 'checkbox', value: code, checked: true, 'data-testid': 'visit-item' } }), el('span', { text: itemName(code) })]));
  const checkOut = el('button', { className: 'primary', i18n: 'nursingCheckOut', attrs: { type: 'submit', 'data-testid': 'visit-check-out' } });
  const checkOutForm = el('form', { className: 'check-out', attrs: { 'data-testid': 'visit-check-out-form', hidden: task.status !== 'in-progress' } }, [
    el('label', { className: 'wide' }, [el('span', { i18n: 'nursingCareRecord' }), care]), el('div', {}, performed), checkOut,
  ]);
  checkOutForm.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!care.value.trim()) {
      outcome.className = 'error';
      return setText(outcome, 'nursingCareMissing');
    }
    checkOut.disabled = true;
    position(10_000)
      .then((p) => {
        const parameter: Parameter[] = [positionParameter(p), { name: 'care', valueString: care.value.trim() }];
        for (const box of checkOutForm.querySelectorAll<HTMLInputElement>('input[type="checkbox"]:checked')) parameter.push({ name: 'item', valueCode: box.value });
        return operation(app, `Task/${task.id}/$check-out`, parameter).then(onChanged, fail);
      }, needPosition)
      .finally(() => (checkOut.disabled = false));
  });

  // The one-tap alarm: sent at once, with the position only if the browser has it within 3 s.
  const alarm = el('button', { className: 'alarm', i18n: 'nursingAlarm', attrs: { type: 'button', 'data-testid': 'visit-alarm' } });
  const alarmOutcome = el('p', { className: 'alarm-outcome', attrs: { role: 'alert', 'data-testid': 'alarm-outcome' } });
  alarm.addEventListener('click', () => {
    alarm.disabled = true;
    setText(alarmOutcome, 'nursingAlarmSending');
    const where = manualPosition(lat.value, lng.value) ? Promise.resolve(manualPosition(lat.value, lng.value)) : browserPosition(3_000).catch(() => undefined);
    void where
      .then((p) => operation<{ parameter?: { name: string; valueInteger?: number }[] }>(app, `Task/${task.id}/$alarm`, p ? [positionParameter(p)] : []))
      .then((body) => {
        const desks = body.parameter?.find((x) => x.name === 'deliveredTo')?.valueInteger ?? 0;
        alarmOutcome.dataset.delivered = String(desks);
        alarmOutcome.className = 'alarm-outcome sent';
        setText(alarmOutcome, 'nursingAlarmSent', { count: desks });
      })
      .catch((err: unknown) => {
        alarmOutcome.className = 'alarm-outcome error';
        showText(alarmOutcome, failureText(err, isRefusal(err)));
      })
      .finally(() => (alarm.disabled = false));
  });

  const checkedIn = eventTime(task, 'check-in');
  return el('article', { className: 'visit-card', attrs: { 'data-testid': 'visit-card', 'data-task': task.id, 'data-status': task.status } }, [
    el('div', { className: 'visit-head' }, [
      el('h2', { text: personName(patient) ?? task.for?.reference ?? '', attrs: { 'data-testid': 'visit-patient' } }),
      el('span', { i18n: task.status === 'in-progress' ? 'nursingVisit_inProgress' : 'nursingVisit_accepted', attrs: { 'data-testid': 'visit-state' } }),
    ]),
    el('dl', {}, [
      el('dt', { i18n: 'nursingAddress' }), el('dd', { text: order ? addressOf(order) : '', attrs: { 'data-testid': 'visit-address' } }),
      el('dt', { i18n: 'nursingItems' }), el('dd', { text: items.map(itemName).join('、'), attrs: { 'data-testid': 'visit-items' } }),
      // After check-in the hub keeps the check-in time as executionPeriod.start.
      checkedIn ? null : el('dt', { i18n: 'nursingScheduledStart' }), checkedIn ? null : el('dd', { text: when(task.executionPeriod?.start), attrs: { 'data-testid': 'visit-start' } }),
      checkedIn ? el('dt', { i18n: 'nursingCheckedInAt' }) : null, checkedIn ? el('dd', { text: when(checkedIn) }) : null,
    ]),
    el('div', { className: 'visit-actions' }, [checkIn, alarm]),
    alarmOutcome, manual, checkOutForm, outcome,
  ]);
}
