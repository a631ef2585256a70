// Routes live in the fragment (#/, #/study/<uid>), so the viewer's address — and its OAuth
// redirect URI — stays exactly <hub>/viewer/, and no route ever reaches the server.
// #/shared/<token>/<uid> opens a share link without an account (share/shared-link.ts): the token
// in the fragment never reaches a server log or a Referer header.
// #/hospital, #/hospital/doctors, #/hospital/appointments, #/hospital/prescriptions,
// #/hospital/consultations, #/hospital/review (the pharmacist's queue) and
// #/hospital/visit/<appointment id> are the internet hospital's pages (hospital/hospital-screen.ts).
// #/family, #/family/panel, #/family/worklist, #/family/sign (a doctor's), #/family/mine (a
// resident's) and #/family/report (administrators' and the regulator's) are the family-doctor
// pages (family/family-screen.ts).
// #/nursing, #/nursing/order, #/nursing/orders, #/nursing/visits, #/nursing/desk and
// #/nursing/order/<ServiceRequest id> are the home-nursing pages (nursing/nursing-screen.ts).
export type HospitalPage = { name: 'home' | 'doctors' | 'appointments' | 'consultations' | 'prescriptions' | 'review' } | { name: 'visit'; appointmentId: string };
export type FamilyPage = { name: 'home' | 'panel' | 'worklist' | 'sign' | 'mine' | 'report' };
export type NursingPage = { name: 'home' | 'order' | 'orders' | 'visits' | 'desk' } | { name: 'order-detail'; orderId: string };
export type Route = { screen: 'worklist' } | { screen: 'study'; studyUid: string } | { screen: 'shared'; token: string; studyUid: string } | { screen: 'hospital'; page: HospitalPage } | { screen: 'family'; page: FamilyPage } | { screen: 'nursing'; page: NursingPage };

export function parseRoute(hash: string): Route {
  const study = /^#\/study\/([^/]+)$/.exec(hash);
  if (study) {
    const uid = decodeURIComponent(study[1]);
    if (/^[0-9.]{1,64}$/.test(uid)) return { screen: 'study', studyUid: uid };
  }
  if (hash.startsWith('#/shared/')) {
    // A mangled link (cut short when pasted) stays a share link, empty, and says so; never the worklist.
    const shared = /^#\/shared\/([A-Za-z0-9_-]{16,128})\/([0-9.]{1,64})$/.exec(hash);
    return { screen: 'shared', token: shared?.[1] ?? '', studyUid: shared?.[2] ?? '' };
  }
  if (hash === '#/hospital' || hash.startsWith('#/hospital/')) return { screen: 'hospital', page: hospitalPage(hash.slice('#/hospital'.length)) };
  if (hash === '#/family' || hash.startsWith('#/family/')) return { screen: 'family', page: familyPage(hash.slice('#/family'.length)) };
  if (hash === '#/nursing' || hash.startsWith('#/nursing/')) return { screen: 'nursing', page: nursingPage(hash.slice('#/nursing'.length)) };
  return { screen: 'worklist' };
}

function hospitalPage(rest: string): HospitalPage {
  const visit = /^\/visit\/([A-Za-z0-9.-]{1,64})$/.exec(rest);
  if (visit) return { name: 'visit', appointmentId: visit[1] };
  const name = rest.slice(1);
  return name === 'doctors' || name === 'appointments' || name === 'consultations' || name === 'prescriptions' || name === 'review' ? { name } : { name: 'home' };
}

function familyPage(rest: string): FamilyPage {
  const name = rest.slice(1);
  return name === 'panel' || name === 'worklist' || name === 'sign' || name === 'mine' || name === 'report' ? { name } : { name: 'home' };
}

function nursingPage(rest: string): NursingPage {
  const order = /^\/order\/([A-Za-z0-9.-]{1,64})$/.exec(rest);
  if (order) return { name: 'order-detail', orderId: order[1] };
  const name = rest.slice(1);
  return name === 'order' || name === 'orders' || name === 'visits' || name === 'desk' ? { name } : { name: 'home' };
}
