// The frame around every screen: title, who is signed in, the language switch and sign-out.
import type { AppContext } from './app-context.js';
import { language, onLanguageChange, setLanguage, t } from './i18n/i18n.js';
import { el, translateTree } from './ui/dom.js';

export function appShell(app: AppContext, onSignOut: () => void): { root: HTMLElement; main: HTMLElement } {
  const user = el('span', { className: 'user', attrs: { 'data-testid': 'user' } });
  const showUser = (name: string) => (user.textContent = name ? t('signedInAs', { name }) : '');
  let userName = app.session.fhirUser() ?? '';
  showUser(userName);
  void practitionerName(app).then((name) => {
    if (name) showUser((userName = name));
  });
  const main = el('main', { className: 'content' });
  const root = el('div', { className: 'shell' }, [
    el('header', { className: 'top-bar' }, [
      el('a', { className: 'title', i18n: 'appTitle', attrs: { href: '#/' } }),
      el('a', { className: 'hospital-link', i18n: 'hospitalLink', attrs: { href: '#/hospital', 'data-testid': 'hospital-link' } }),
      el('a', { className: 'family-link', i18n: 'familyLink', attrs: { href: '#/family', 'data-testid': 'family-link' } }),
      el('a', { className: 'nursing-link', i18n: 'nursingLink', attrs: { href: '#/nursing', 'data-testid': 'nursing-link' } }),
      user,
      el('button', { className: 'language', i18n: 'switchLanguage', attrs: { 'data-testid': 'switch-language', lang: language() === 'zh-CN' ? 'en' : 'zh-CN' }, on: { click: () => setLanguage(language() === 'zh-CN' ? 'en' : 'zh-CN') } }),
      el('button', { className: 'sign-out', i18n: 'signOut', attrs: { 'data-testid': 'sign-out' }, on: { click: onSignOut } }),
    ]),
    main,
  ]);
  onLanguageChange(() => {
    translateTree(root.querySelector('header')!);
    showUser(userName);
    document.title = t('appTitle');
  });
  document.title = t('appTitle');
  return { root, main };
}

/** The signed-in person's name from their FHIR record (fhirUser), best effort. */
async function practitionerName(app: AppContext): Promise<string | undefined> {
  const fhirUser = app.session.fhirUser();
  if (!fhirUser || !/^(Practitioner|Patient|Person|RelatedPerson)\/[A-Za-z0-9.-]{1,64}$/.test(fhirUser)) return undefined;
  try {
    const resource = await app.client.json<{ name?: { text?: string; family?: string; given?: string[] }[] }>(`${app.hub.fhirBase}/${fhirUser}`, { accept: 'application/fhir+json' });
    const name = resource.name?.[0];
    if (!name) return undefined;
    if (name.text) return name.text;
    const given = (name.given ?? []).join(' ');
    // Chinese names are written family name first, without a space.
    return /[\u4e00-\u9fff]/.test(`${name.family ?? ''}${given}`) ? `${name.family ?? ''}${given}` : [given, name.family].filter(Boolean).join(' ');
  } catch {
    return undefined;
  }
}
