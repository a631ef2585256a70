// Opening a share link (#/shared/<token>/<study uid>) without an account: no sign-in, no token,
// nothing stored. The page asks the link's DICOMweb for the study; when the hub answers that the
// link needs its access code (or the code was wrong) it asks for it, and shows the hub's own word
// when the link is locked, revoked or expired. Then the reading screen for that one study,
// read-only, reading through the share's DICOMweb base with the code in a header
// (dicomweb/share-client.ts). No worklist, sharing, reports or FHIR: any other fragment reloads
// the viewer, which then asks the visitor to sign in.
import type { AppContext } from '../app-context.js';
import { Session, SessionExpired } from '../auth/session.js';
import type { DicomJson } from '../dicomweb/dicom-json.js';
import { HubClient, type HttpClient } from '../dicomweb/http.js';
import { ShareLinkClient, ShareLinkRefused } from '../dicomweb/share-client.js';
import type { HubLocation } from '../hub-location.js';
import { language, onLanguageChange, setLanguage, t } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';
import type { InstanceCatalogue } from '../imaging/instance-catalogue.js';
import { readingScreen } from '../reading/reading-screen.js';
import { el, setText, translateTree } from '../ui/dom.js';
import { Scope } from '../ui/scope.js';
import { formatWhen } from './share-api.js';
import './share.css';

export interface SharedLinkOptions {
  body: HTMLElement;
  hub: HubLocation;
  /** Empty when the link in the address bar was malformed. */
  token: string;
  studyUid: string;
  /** Registers the image loader reading through this client; answers its catalogue. */
  imageLoader(client: HttpClient): InstanceCatalogue;
}

/** What each refusal tells the visitor, and whether asking for a code can help. */
const REFUSALS: Record<ShareLinkRefused['reason'], { message: MessageKey; askCode: boolean }> = {
  'code-required': { message: 'sharedCodeNeeded', askCode: true },
  'code-wrong': { message: 'sharedCodeWrong', askCode: true },
  locked: { message: 'sharedLocked', askCode: false },
  revoked: { message: 'sharedRevoked', askCode: false },
  expired: { message: 'sharedExpired', askCode: false },
  other: { message: 'sharedFailed', askCode: false },
};

export function openSharedLink(options: SharedLinkOptions): void {
  const { hub, token, studyUid } = options;
  const client = new ShareLinkClient(`${hub.imaging}/shared/${token}/dicomweb`);
  const header = el('header', { className: 'top-bar' }, [
    el('span', { className: 'title', i18n: 'appTitle' }),
    el('span', { className: 'shared-label', i18n: 'sharedLabel' }),
    el('button', { className: 'language', i18n: 'switchLanguage', attrs: { 'data-testid': 'switch-language' }, on: { click: () => setLanguage(language() === 'zh-CN' ? 'en' : 'zh-CN') } }),
  ]);
  const banner = el('p', { className: 'shared-banner', attrs: { role: 'status', 'data-testid': 'shared-banner', hidden: true } });
  const main = el('main', { className: 'content' });
  options.body.replaceChildren(el('div', { className: 'shell shared-link', attrs: { 'data-testid': 'shared-link' } }, [header, banner, main]));
  // Leaving the link's address (for the worklist, or another link) starts the viewer afresh.
  window.addEventListener('hashchange', () => location.reload());

  let expiresAt: string | undefined;
  const showBanner = () => {
    banner.hidden = false;
    banner.textContent = expiresAt ? t('sharedBannerExpires', { when: formatWhen(expiresAt) }) : t('sharedBanner');
  };

  const message = el('p', { attrs: { role: 'alert', 'data-testid': 'shared-message' } });
  const hubSays = el('p', { className: 'hint', attrs: { 'data-testid': 'shared-hub-message' } });
  const code = el('input', { attrs: { type: 'password', autocomplete: 'off', required: true, maxlength: 64, 'data-testid': 'share-code' } });
  const submit = el('button', { className: 'primary', i18n: 'sharedOpen', attrs: { type: 'submit', 'data-testid': 'share-code-submit' } });
  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    void attempt(code.value);
  };
  const form = el('form', { attrs: { 'data-testid': 'share-code-form', hidden: true }, on: { submit: onSubmit } }, [el('label', {}, [el('span', { i18n: 'sharedAccessCode' }), code]), submit]);
  const gate = el('section', { className: 'splash shared-gate', attrs: { 'data-testid': 'shared-gate' } }, [el('h1', { i18n: 'sharedTitle' }), message, form, hubSays]);
  main.replaceChildren(gate);
  onLanguageChange(() => {
    translateTree(header);
    translateTree(gate);
    if (!banner.hidden) showBanner();
    document.title = t('appTitle');
  });

  const refuse = (key: MessageKey, values: Record<string, string> | undefined, hubMessage: string | undefined, askCode: boolean) => {
    setText(message, key, values);
    if (hubMessage) setText(hubSays, 'sharedHubSays', { message: hubMessage });
    else {
      delete hubSays.dataset.i18n;
      hubSays.textContent = '';
    }
    form.hidden = !askCode;
    submit.disabled = false;
    if (askCode) {
      code.value = '';
      code.focus();
    }
  };

  const attempt = async (accessCode: string | undefined) => {
    client.useAccessCode(accessCode);
    submit.disabled = true;
    setText(message, 'sharedOpening');
    try {
      const studies = await client.json<DicomJson[]>(`${client.base}/studies?StudyInstanceUID=${encodeURIComponent(studyUid)}`, { accept: 'application/dicom+json' });
      // The hub limits the link to its own study: another UID in the address finds nothing.
      if (!studies.length) return refuse('sharedWrongStudy', undefined, undefined, false);
    } catch (err) {
      if (err instanceof ShareLinkRefused && err.status === 404) return refuse('sharedNotFound', undefined, err.message, false);
      if (err instanceof ShareLinkRefused) {
        const refusal = REFUSALS[err.reason];
        return refuse(refusal.message, { reason: err.message }, err.message, refusal.askCode);
      }
      return refuse('sharedFailed', { reason: (err as Error).message }, undefined, false);
    }
    expiresAt = client.expiresAt;
    read();
  };

  const read = () => {
    const session = new NoAccountSession(hub);
    const app: AppContext = {
      hub,
      session,
      client: new HubClient(session),
      catalogue: options.imageLoader(client),
      dicomweb: { base: client.base, client },
      sharedLink: { studyUid, expiresAt },
      navigate: (route) => {
        location.hash = route;
      },
      // Nobody to sign in: a share link never has a token to renew.
      signInAgain: () => undefined,
    };
    showBanner();
    readingScreen(app, main, studyUid, new Scope());
  };

  if (!token) return refuse('sharedMalformed', undefined, undefined, false);
  void attempt(undefined);
}

/**
 * The session of a page opened from a share link: nobody is signed in, nobody signs in, and any
 * request for a token fails — so nothing on this page can send one, even if this tab holds one.
 */
class NoAccountSession extends Session {
  override isSignedIn(): boolean {
    return false;
  }

  override fhirUser(): string | undefined {
    return undefined;
  }

  override async signIn(): Promise<void> {
    throw new SessionExpired('opened from a share link: no account');
  }

  override async accessToken(): Promise<string> {
    throw new SessionExpired('opened from a share link: no account');
  }

  override async renewAfterRejection(): Promise<string> {
    throw new SessionExpired('opened from a share link: no account');
  }

  override async signOut(): Promise<void> {}
}
