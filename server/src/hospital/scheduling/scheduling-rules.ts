// What plain FHIR writes may not do to the online clinic's calendar:
// - publish an active Schedule for a doctor who may not practise online (IH-08/09);
// - create or change a booked Appointment, or flip a Slot between free and busy — that is what
//   $book/$cancel/$reschedule do under the slot's lock, with the follow-up rule (IH-01/02) checked.
import type { Appointment, Schedule, Slot } from '@medplum/fhirtypes';
import { Forbidden } from '../../fhir/errors.js';
import type { WriteRule } from '../../fhir/module-operations.js';
import { eligiblePractitionerByReference } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';

export function schedulingWriteRules(deps: HospitalDeps): WriteRule[] {
  const schedules: WriteRule = async (_kind, { type, next, repo }) => {
    if (type !== 'Schedule' || !next) return;
    const schedule = next as Schedule;
    if (schedule.active === false) return;
    for (const actor of schedule.actor ?? []) {
      if (actor.reference?.startsWith('Practitioner/')) await eligiblePractitionerByReference(deps, actor.reference, 'doctor', undefined, deps.clock.now(), repo);
    }
  };
  const calendar: WriteRule = (kind, { type, previous, next }) => {
    if (type === 'Appointment') {
      const touched = [previous, next] as (Appointment | undefined)[];
      if (touched.some((a) => a?.slot?.length)) {
        throw new Forbidden(`Appointments on published slots are booked and changed with Appointment/$book, $cancel, $reschedule and $no-show (they check IH-01/IH-02 and keep a slot to one patient); this ${kind} was refused`);
      }
    }
    if (type === 'Slot') {
      const before = (previous as Slot | undefined)?.status;
      const after = (next as Slot | undefined)?.status;
      if ((before === 'busy' && after !== 'busy' && after !== undefined) || (after === 'busy' && before !== 'busy')) {
        throw new Forbidden('A slot becomes busy or free again only by booking or cancelling (Appointment/$book, $cancel)');
      }
    }
  };
  return [schedules, calendar];
}
