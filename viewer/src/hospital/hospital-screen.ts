// The internet hospital's pages (#/hospital/…), chosen by the signed-in role: a resident finds a
// doctor, books, sees their appointments and joins a started visit; a doctor sees the day's
// consultations, starts, holds and ends visits; a pharmacist reviews the institution's signed
// prescriptions; a resident also sees their (and their children's) prescriptions. Anyone else
// is told the pages are not theirs.
import type { AppContext } from '../app-context.js';
import type { HospitalPage } from '../router.js';
import { onLanguageChange } from '../i18n/i18n.js';
import { el, translateTree } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { consultationsPage } from './consultations.js';
import { findDoctorPage } from './find-doctor.js';
import './hospital.css';
import { myAppointmentsPage } from './my-appointments.js';
import { myPrescriptionsPage } from './my-prescriptions.js';
import { reviewQueuePage } from './review-queue.js';
import { hospitalRole } from './role.js';
import { visitPage } from './visit-page.js';

export function hospitalScreen(app: AppContext, main: HTMLElement, page: HospitalPage, scope: Scope): void {
  const role = hospitalRole(app.session.fhirUser(), app.session.accountRole());
  const content = el('div', { className: 'hospital-content' });
  const tab = (href: string, key: 'hospitalFindDoctor' | 'hospitalMyAppointments' | 'hospitalMyPrescriptions' | 'hospitalConsultations' | 'hospitalReviewQueue' | 'hospitalWorklist', current: boolean) =>
    el('a', { i18n: key, attrs: { href, 'aria-current': current ? 'page' : undefined, 'data-testid': `hospital-tab-${key}` } });
  const nav =
    role === 'resident'
      ? [tab('#/hospital/doctors', 'hospitalFindDoctor', page.name === 'doctors' || page.name === 'home'), tab('#/hospital/appointments', 'hospitalMyAppointments', page.name === 'appointments'), tab('#/hospital/prescriptions', 'hospitalMyPrescriptions', page.name === 'prescriptions')]
      : role === 'clinician'
        ? [tab('#/hospital/consultations', 'hospitalConsultations', page.name !== 'visit'), tab('#/', 'hospitalWorklist', false)]
        : role === 'pharmacist'
          ? [tab('#/hospital/review', 'hospitalReviewQueue', true)]
          : [];
  main.replaceChildren(el('div', { className: 'hospital', attrs: { 'data-testid': 'hospital', 'data-role': role ?? 'none' } }, [el('nav', { className: 'hospital-tabs' }, nav), content]));
  // Every text here is set with its dictionary key: a language change re-translates the page.
  scope.add(onLanguageChange(() => translateTree(main)));
  if (!role) return void content.append(el('p', { className: 'status', i18n: 'hospitalNoRole' }));
  if (role === 'pharmacist') return reviewQueuePage(app, content, scope);
  if (page.name === 'visit') return visitPage(app, content, scope, page.appointmentId, role);
  if (role === 'clinician') return consultationsPage(app, content, scope);
  if (page.name === 'appointments') return myAppointmentsPage(app, content, scope);
  if (page.name === 'prescriptions') return myPrescriptionsPage(app, content, scope);
  findDoctorPage(app, content, scope);
}
