// Sharing the open study from the reading screen: a toolbar button and a dialog that creates a
// share — a link with an expiry and an optional access code, or with an institution or a
// practitioner — shows a new link's viewer address once (the hub keeps only a hash of its token),
// and lists the study's shares with a revoke button. The hub decides who may share: the button
// appears once the hub has answered the list for this user, and its 403 keeps it hidden.
import type { AppContext } from '../app-context.js';
import { SessionExpired } from '../auth/session.js';
import { HttpError, RequestFailed } from '../dicomweb/http.js';
import { onLanguageChange, t } from '../i18n/i18n.js';
import type { MessageKey } from '../i18n/messages.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { searchRecipients } from './recipient-search.js';
import { DEFAULT_SHARE_HOURS, formatWhen, MAX_SHARE_HOURS, recipientReference, ShareApi, type NewShare, type ShareKind, type StudyShare } from './share-api.js';
import './share.css';

const KINDS: { kind: ShareKind; label: MessageKey; short: MessageKey }[] = [
  { kind: 'link', label: 'shareKindLink', short: 'shareListLink' },
  { kind: 'organization', label: 'shareKindOrganization', short: 'shareKindOrganization' },
  { kind: 'practitioner', label: 'shareKindPractitioner', short: 'shareKindPractitioner' },
];

/** The toolbar's share button with its dialog; null when the viewer was opened from a share link. */
/** `ready`: when to ask the hub (after the first image, so the question does not slow it). */
export function shareControl(app: AppContext, studyUid: string, scope: Scope, ready: Promise<unknown> = Promise.resolve()): HTMLElement | null {
  if (app.sharedLink) return null;
  const api = new ShareApi(app.client, app.hub);
  const dialog = shareDialog(app, api, studyUid, scope);
  const button = el('button', { i18n: 'shareOpen', attrs: { 'data-testid': 'share-open', hidden: true }, on: { click: () => dialog.open() } });
  // Asking the hub, not guessing from the role: it answers 403 to those who may not share.
  void ready.then(() =>
    api.list(studyUid).then(
      () => (button.hidden = false),
      (err: unknown) => (button.hidden = err instanceof SessionExpired || (err instanceof HttpError && (err.status === 403 || err.status === 404))),
    ),
  );
  return el('span', { className: 'group share-control' }, [button, dialog.element]);
}

function shareDialog(app: AppContext, api: ShareApi, studyUid: string, scope: Scope): { element: HTMLDialogElement; open(): void } {
  const kindSelect = el(
    'select',
    { attrs: { 'data-testid': 'share-kind' }, on: { change: () => showKind() } },
    KINDS.map((k) => el('option', { i18n: k.label, attrs: { value: k.kind } })),
  );
  const hours = el('input', { attrs: { type: 'number', min: 1, max: MAX_SHARE_HOURS, step: 1, value: DEFAULT_SHARE_HOURS, required: true, 'data-testid': 'share-hours' } });
  const hoursHint = el('small', { className: 'hint' });
  const code = el('input', { attrs: { type: 'text', autocomplete: 'off', spellcheck: 'false', pattern: '\\S{4,64}', maxlength: 64, 'data-testid': 'share-access-code' } });
  const codeField = el('label', {}, [el('span', { i18n: 'shareAccessCode' }), code, el('small', { className: 'hint', i18n: 'shareAccessCodeHint' })]);
  const recipientLabel = el('span');
  const recipient = el('input', { attrs: { type: 'text', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'share-recipient' } });
  const searchOnEnter = (e: KeyboardEvent) => {
    // Enter searches; it must not submit the share form around it.
    if (e.key !== 'Enter') return;
    e.preventDefault();
    void search();
  };
  const searchName = el('input', { attrs: { type: 'search', 'data-testid': 'share-search-name' }, on: { keydown: searchOnEnter } });
  const searchResults = el('ul', { className: 'share-search-results', attrs: { 'data-testid': 'share-search-results' } });
  const recipientFields = el('div', { className: 'share-recipient', attrs: { hidden: true } }, [
    el('label', {}, [recipientLabel, recipient]),
    el('label', {}, [el('span', { i18n: 'shareSearchName' }), el('span', { className: 'inline' }, [searchName, el('button', { i18n: 'shareSearch', attrs: { type: 'button', 'data-testid': 'share-search' }, on: { click: () => void search() } })])]),
    searchResults,
  ]);
  const createButton = el('button', { className: 'primary', i18n: 'shareCreate', attrs: { type: 'submit', 'data-testid': 'share-create' } });
  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    void create();
  };
  const form = el('form', { className: 'share-form', attrs: { 'data-testid': 'share-form' }, on: { submit: onSubmit } }, [
    el('label', {}, [el('span', { i18n: 'shareKind' }), kindSelect]),
    el('label', {}, [el('span', { i18n: 'shareHours' }), hours, hoursHint]),
    codeField,
    recipientFields,
    el('div', { className: 'share-actions' }, [createButton]),
  ]);
  const error = el('p', { className: 'error', attrs: { role: 'alert', 'data-testid': 'share-error', hidden: true } });

  const linkInput = el('input', { attrs: { type: 'text', readonly: true, 'data-testid': 'share-link' }, i18nAttrs: { 'aria-label': 'shareLinkLabel' }, on: { focus: () => linkInput.select() } });
  const copyStatus = el('span', { className: 'hint', attrs: { 'aria-live': 'polite', 'data-testid': 'share-copy-status' } });
  const codeNote = el('p', { className: 'hint', i18n: 'shareLinkCodeNote', attrs: { hidden: true } });
  const created = el('section', { className: 'share-created', attrs: { 'data-testid': 'share-created', hidden: true } }, [
    el('strong', { i18n: 'shareLinkLabel' }),
    el('div', { className: 'share-link-row' }, [linkInput, el('button', { i18n: 'shareCopy', attrs: { 'data-testid': 'share-copy' }, on: { click: () => void copy() } })]),
    copyStatus,
    el('p', { className: 'share-once', i18n: 'shareLinkOnce', attrs: { 'data-testid': 'share-once' } }),
    codeNote,
  ]);
  const createdOther = el('p', { className: 'hint', i18n: 'shareCreated', attrs: { 'data-testid': 'share-created-recipient', role: 'status', hidden: true } });

  let shares: StudyShare[] = [];
  const listBody = el('tbody');
  const listStatus = el('p', { className: 'hint', attrs: { 'data-testid': 'share-list-status' } });
  const list = el('table', { className: 'share-list', attrs: { 'data-testid': 'share-list' } }, [
    el('thead', {}, [el('tr', {}, (['shareColumnKind', 'shareColumnRecipient', 'shareColumnExpires', 'shareColumnCode', 'shareColumnStatus'] as const).map((key) => el('th', { i18n: key })).concat(el('th')))]),
    listBody,
  ]);

  const dialog = el('dialog', { className: 'share', attrs: { 'data-testid': 'share-dialog', 'aria-labelledby': 'share-title' } }, [
    el('h2', { i18n: 'shareTitle', attrs: { id: 'share-title' } }),
    form,
    error,
    created,
    createdOther,
    el('h3', { i18n: 'shareExisting' }),
    list,
    listStatus,
    el('div', { className: 'share-actions' }, [el('button', { i18n: 'close', attrs: { 'data-testid': 'share-close' }, on: { click: () => dialog.close() } })]),
  ]);
  // Keys typed here are the dialog's, not the reading screen's shortcuts.
  dialog.addEventListener('keydown', (e) => e.stopPropagation());
  // The token is shown once: gone from the page when the dialog closes.
  dialog.addEventListener('close', () => {
    linkInput.value = '';
    created.hidden = true;
    createdOther.hidden = true;
    error.hidden = true;
  });

  const showKind = () => {
    const kind = kindSelect.value as ShareKind;
    const isLink = kind === 'link';
    codeField.hidden = !isLink;
    recipientFields.hidden = isLink;
    // Links must expire; a share with a person or an institution may last until revoked.
    hours.required = isLink;
    setText(hoursHint, isLink ? 'shareHoursLinkHint' : 'shareHoursRecipientHint', { max: MAX_SHARE_HOURS });
    setText(recipientLabel, kind === 'organization' ? 'shareRecipientOrganization' : 'shareRecipientPractitioner');
    searchResults.replaceChildren();
  };
  showKind();

  const showError = (err: unknown) => {
    if (err instanceof SessionExpired) return app.signInAgain();
    error.hidden = false;
    const reason = err instanceof Error ? err.message : String(err);
    if (err instanceof HttpError && err.status === 403) setText(error, 'shareForbidden', { reason });
    else if (err instanceof HttpError || err instanceof RequestFailed) setText(error, 'shareFailed', { reason });
    else setText(error, 'loadFailed', { reason });
  };

  const renderList = () => {
    listBody.replaceChildren(...shares.map(shareRow));
    if (shares.length) listStatus.replaceChildren();
    else setText(listStatus, 'shareNone');
  };
  const shareRow = (share: StudyShare) => {
    const expired = !share.revokedAt && share.expiresAt !== undefined && Date.parse(share.expiresAt) <= Date.now();
    const status = share.revokedAt ? t('shareRevoked', { when: formatWhen(share.revokedAt) }) : expired ? t('shareExpired') : t('shareActive');
    const revoke = el('button', { i18n: 'shareRevoke', attrs: { 'data-testid': 'share-revoke' }, on: { click: () => void revokeShare(share, revoke) } });
    return el('tr', { attrs: { 'data-testid': 'share-row', 'data-share-id': share.id, 'data-kind': share.kind, 'data-status': share.revokedAt ? 'revoked' : expired ? 'expired' : 'active' } }, [
      el('td', { text: t(KINDS.find((k) => k.kind === share.kind)?.short ?? 'shareListLink') }),
      el('td', { text: share.recipient ?? '—', attrs: { title: share.recipient } }),
      el('td', { text: share.expiresAt ? formatWhen(share.expiresAt) : t('shareNoExpiry') }),
      el('td', { text: share.kind === 'link' ? t(share.hasAccessCode ? 'shareYes' : 'shareNo') : '—' }),
      el('td', { text: status }),
      el('td', {}, [share.revokedAt ? null : revoke]),
    ]);
  };
  scope.add(onLanguageChange(renderList));

  const refresh = async () => {
    try {
      shares = await api.list(studyUid);
      renderList();
    } catch (err) {
      showError(err);
    }
  };

  const create = async () => {
    error.hidden = true;
    created.hidden = true;
    createdOther.hidden = true;
    const kind = kindSelect.value as ShareKind;
    const body: NewShare = { kind };
    if (hours.value.trim() !== '') body.expiresInHours = Number(hours.value);
    if (kind === 'link') {
      if (code.value.trim()) body.accessCode = code.value.trim();
    } else {
      if (!recipient.value.trim()) {
        error.hidden = false;
        return setText(error, 'shareRecipientMissing');
      }
      body.recipient = recipientReference(kind, recipient.value);
    }
    createButton.disabled = true;
    try {
      const share = await api.create(studyUid, body);
      if (share.viewerUrl) {
        linkInput.value = share.viewerUrl;
        copyStatus.replaceChildren();
        codeNote.hidden = !share.hasAccessCode;
        created.hidden = false;
        code.value = '';
      } else {
        createdOther.hidden = false;
        recipient.value = '';
      }
      await refresh();
    } catch (err) {
      showError(err);
    } finally {
      createButton.disabled = false;
    }
  };

  const revokeShare = async (share: StudyShare, button: HTMLButtonElement) => {
    error.hidden = true;
    button.disabled = true;
    try {
      await api.revoke(share.id);
      await refresh();
    } catch (err) {
      button.disabled = false;
      showError(err);
    }
  };

  const copy = async () => {
    linkInput.select();
    try {
      await navigator.clipboard.writeText(linkInput.value);
      setText(copyStatus, 'shareCopied');
    } catch {
      // No clipboard permission (plain HTTP, or refused): the old way, else the user copies.
      setText(copyStatus, document.execCommand('copy') ? 'shareCopied' : 'shareCopyManually');
    }
  };

  const search = async () => {
    const kind = kindSelect.value as ShareKind;
    const name = searchName.value.trim();
    if (kind === 'link' || !name) return;
    searchResults.replaceChildren(el('li', { className: 'hint', i18n: 'loading' }));
    try {
      const matches = await searchRecipients(app.client, app.hub, kind, name);
      searchResults.replaceChildren(
        ...(matches.length
          ? matches.map((m) =>
              el('li', {}, [
                el('button', {
                  className: 'link',
                  text: `${m.name} · ${m.reference}`,
                  attrs: { type: 'button', 'data-testid': 'share-search-result', 'data-reference': m.reference },
                  on: {
                    click: () => {
                      recipient.value = m.reference;
                      searchResults.replaceChildren();
                    },
                  },
                }),
              ]),
            )
          : [el('li', { className: 'hint', i18n: 'shareSearchNone' })]),
      );
    } catch (err) {
      if (err instanceof SessionExpired) return app.signInAgain();
      searchResults.replaceChildren(el('li', { className: 'error', i18n: 'shareSearchFailed', i18nValues: { reason: (err as Error).message } }));
    }
  };

  return {
    element: dialog,
    open() {
      error.hidden = true;
      setText(listStatus, 'loading');
      dialog.showModal();
      kindSelect.focus();
      void refresh();
    },
  };
}
