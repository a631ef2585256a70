// The viewer's entry point: finish or start signing in, then show the screen the fragment names.
// A share link (#/shared/…) opens without signing in: share/shared-link.ts.
import './styles.css';
import cornerstone from 'cornerstone-core';
import type { AppContext } from './app-context.js';
import { appShell } from './app-shell.js';
import { Session, SessionExpired, SignInError } from './auth/session.js';
import { HubClient, type HttpClient } from './dicomweb/http.js';
import { hubLocation } from './hub-location.js';
import { language, t } from './i18n/i18n.js';
import { registerSuheImageLoader } from './imaging/image-loader.js';
import { InstanceCatalogue } from './imaging/instance-catalogue.js';
import { JpegLosslessDecoder } from './imaging/jpeg-lossless-client.js';
import { readingScreen } from './reading/reading-screen.js';
import { parseRoute } from './router.js';
import { openSharedLink } from './share/shared-link.js';
import { el } from './ui/dom.js';
import { Scope } from './ui/scope.js';
import { worklistScreen } from './worklist/worklist-screen.js';
import { familyScreen } from './family/family-screen.js';
import { hospitalScreen } from './hospital/hospital-screen.js';
import { nursingScreen } from './nursing/nursing-screen.js';
import { homeIsHospital, hospitalRole } from './hospital/role.js';

// Decoded images kept for scrolling back and forth: a 512×512 CT slice is ~0.5 MB.
const IMAGE_CACHE_BYTES = 512 * 1024 * 1024;

async function start(): Promise<void> {
  document.documentElement.lang = language();
  document.title = t('appTitle');
  const hub = hubLocation(location.href);
  const session = new Session(hub);
  const body = document.body;
  const first = parseRoute(location.hash);
  // No account, no sign-in, no session: the link alone opens its one study.
  if (first.screen === 'shared') return openSharedLink({ body, hub, token: first.token, studyUid: first.studyUid, imageLoader });

  try {
    await session.completeSignIn(location.href);
  } catch (err) {
    const reason = err instanceof SignInError && err.message === 'state' ? t('stateMismatch') : t('signInFailed', { reason: (err as Error).message });
    return showSignedOut(body, reason, () => void session.signIn('#/'));
  }
  if (sessionStorage.getItem('suhe.viewer.signedOut')) {
    sessionStorage.removeItem('suhe.viewer.signedOut');
    return showSignedOut(body, t('signedOut'), () => void session.signIn('#/'));
  }
  if (!session.isSignedIn()) {
    body.replaceChildren(el('p', { className: 'splash', i18n: 'signingIn' }));
    return session.signIn(location.hash || '#/');
  }

  const client = new HubClient(session);
  const catalogue = imageLoader(client);

  const app: AppContext = {
    hub,
    session,
    client,
    catalogue,
    dicomweb: { base: hub.dicomweb, client },
    navigate: (route) => {
      if (location.hash === route) render();
      else location.hash = route;
    },
    signInAgain: () => void session.signOut().then(() => session.signIn(location.hash || '#/')),
  };
  const shell = appShell(app, () => {
    void session.signOut().then(() => {
      sessionStorage.setItem('suhe.viewer.signedOut', '1');
      location.replace(hub.viewerUrl);
    });
  });
  body.replaceChildren(shell.root);

  let scope = new Scope();
  const render = () => {
    scope.dispose();
    scope = new Scope();
    const route = parseRoute(location.hash);
    // A share link starts afresh, without this session (see the top of start()).
    if (route.screen === 'shared') return location.reload();
    if (route.screen === 'study') readingScreen(app, shell.main, route.studyUid, scope);
    else if (route.screen === 'hospital') hospitalScreen(app, shell.main, route.page, scope);
    else if (route.screen === 'family') familyScreen(app, shell.main, route.page, scope);
    else if (route.screen === 'nursing') nursingScreen(app, shell.main, route.page, scope);
    // A resident's home is the internet hospital, a pharmacist's the review queue in it; the
    // image worklist stays the clinician's.
    else if (homeIsHospital(hospitalRole(session.fhirUser(), session.accountRole()))) hospitalScreen(app, shell.main, { name: 'home' }, scope);
    else worklistScreen(app, shell.main, scope);
  };
  window.addEventListener('hashchange', render);
  render();
}

/** Registers the suhe: image loader, reading through `client`; answers the catalogue it consults. */
function imageLoader(client: HttpClient): InstanceCatalogue {
  const catalogue = new InstanceCatalogue();
  const jpegLossless = new JpegLosslessDecoder(new URL(__JPEG_LOSSLESS_WORKER__, import.meta.url));
  registerSuheImageLoader({ client, catalogue, jpegLossless });
  cornerstone.imageCache.setMaximumSizeBytes(IMAGE_CACHE_BYTES);
  return catalogue;
}

function showSignedOut(body: HTMLElement, message: string, signIn: () => void): void {
  body.replaceChildren(
    el('main', { className: 'splash' }, [
      el('h1', { i18n: 'appTitle' }),
      el('p', { text: message, attrs: { role: 'status', 'data-testid': 'signed-out' } }),
      el('button', { className: 'primary', i18n: 'signIn', attrs: { 'data-testid': 'sign-in' }, on: { click: signIn } }),
    ]),
  );
}

start().catch((err: unknown) => {
  if (err instanceof SessionExpired) return void new Session(hubLocation(location.href)).signIn(location.hash || '#/');
  document.body.replaceChildren(el('p', { className: 'error', attrs: { role: 'alert' }, text: String((err as Error)?.message ?? err) }));
});
