// The family-doctor pages (#/family/…), chosen by the signed-in role: a doctor's workbench —
// the panel of signed residents with their priority groups (FD-01/04), the worklist of what is
// due or overdue (FD-07..09) with recording a follow-up, and signing a resident up at the centre
// (FD-02/05); a resident's "my family doctor"; the district's indicators for administrators and
// the regulator (FD-04). Anyone else is told the pages are not theirs.
import type { AppContext } from '../app-context.js';
import type { MessageKey } from '../i18n/messages.js';
import { onLanguageChange } from '../i18n/i18n.js';
import type { FamilyPage } from '../router.js';
import { el, translateTree } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { hospitalRole } from '../hospital/role.js';
import '../hospital/hospital.css';
import './family.css';
import { myFamilyDoctorPage } from './my-family-doctor.js';
import { panelPage } from './panel.js';
import { reportPage } from './report-page.js';
import { signContractPage } from './sign-contract.js';
import { worklistPage } from './worklist.js';

export function familyScreen(app: AppContext, main: HTMLElement, page: FamilyPage, scope: Scope): void {
  // Administrators and the regulator see the district's indicators (FD-04), whatever their fhirUser.
  const overseer = app.session.accountRole() === 'admin' || app.session.accountRole() === 'regulator';
  const role = overseer ? undefined : hospitalRole(app.session.fhirUser(), app.session.accountRole());
  const content = el('div', { className: 'hospital-content' });
  const doctorPage = page.name === 'home' || page.name === 'mine' ? 'panel' : page.name;
  const tab = (href: string, key: MessageKey, current: boolean, id: string) =>
    el('a', { i18n: key, attrs: { href, 'aria-current': current ? 'page' : undefined, 'data-testid': `family-tab-${id}` } });
  const nav =
    role === 'clinician'
      ? [
          tab('#/family/panel', 'familyPanel', doctorPage === 'panel', 'panel'),
          tab('#/family/worklist', 'familyWorklist', doctorPage === 'worklist', 'worklist'),
          tab('#/family/sign', 'familySign', doctorPage === 'sign', 'sign'),
        ]
      : role === 'resident'
        ? [tab('#/family/mine', 'familyMine', true, 'mine')]
        : overseer
          ? [tab('#/family/report', 'familyReport', true, 'report')]
          : [];
  main.replaceChildren(el('div', { className: 'hospital family', attrs: { 'data-testid': 'family', 'data-role': role ?? 'none' } }, [el('nav', { className: 'hospital-tabs' }, nav), content]));
  // Every text here is set with its dictionary key: a language change re-translates the page.
  scope.add(onLanguageChange(() => translateTree(main)));
  if (overseer) return reportPage(app, content, scope);
  if (role === 'resident') return myFamilyDoctorPage(app, content, scope);
  if (role !== 'clinician') return void content.append(el('p', { className: 'status', i18n: 'familyNoRole' }));
  if (doctorPage === 'worklist') return worklistPage(app, content, scope);
  if (doctorPage === 'sign') return void signContractPage(app, content, scope, 'doctor');
  panelPage(app, content, scope);
}
