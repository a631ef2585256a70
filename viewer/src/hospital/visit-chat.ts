// The visit's conversation, for the patient and the doctor alike: the messages so far (FHIR
// Communications of the Encounter), then the other side's new ones live over the WebSocket.
// Sending goes through Encounter/{id}/$send-message, whose answer carries the delivery state:
// completed = delivered at once (the other side is connected), in-progress = waiting for them.
import type { AppContext } from '../app-context.js';
import { el, setText } from '../ui/dom.js';
import type { Scope } from '../ui/scope.js';
import { failureText, showText, when } from './format.js';
import { isRefusal, operation, search, type FhirResource } from './hospital-api.js';
import { openLiveChannel } from './live-channel.js';

interface Communication extends FhirResource {
  status?: string;
  sent?: string;
  sender?: { reference?: string };
  payload?: { contentString?: string }[];
  category?: { coding?: { code?: string }[] }[];
}

export interface VisitChat {
  root: HTMLElement;
  /** The visit ended (told by the hub, or ended here): no more sending. */
  markEnded(): void;
}

export function visitChat(app: AppContext, encounterId: string, scope: Scope): VisitChat {
  const me = app.session.fhirUser();
  const list = el('ol', { className: 'chat-messages', attrs: { 'data-testid': 'chat-messages', 'aria-live': 'polite' } });
  const state = el('span', { className: 'chat-live', attrs: { 'data-testid': 'chat-live', 'data-state': 'connecting' }, i18n: 'hospitalLiveConnecting' });
  const text = el('input', { attrs: { type: 'text', maxlength: 2000, 'data-testid': 'chat-text' }, i18nAttrs: { 'aria-label': 'hospitalMessage', placeholder: 'hospitalMessage' } });
  const send = el('button', { className: 'primary', i18n: 'hospitalSend', attrs: { type: 'submit', 'data-testid': 'chat-send' } });
  const error = el('p', { className: 'error', attrs: { role: 'alert', 'data-testid': 'chat-error' } });
  const form = el('form', { className: 'chat-form' }, [text, send]);
  const root = el('section', { className: 'chat', attrs: { 'data-testid': 'chat', 'data-encounter': encounterId } }, [el('h2', { i18n: 'hospitalChat' }), state, list, form, error]);
  const shown = new Map<string, HTMLElement>();

  const show = (c: Communication) => {
    if (c.category?.some((cat) => cat.coding?.some((code) => code.code === 'video-call'))) return;
    const mine = c.sender?.reference === me;
    const delivered = c.status === 'completed';
    const item = el('li', { className: mine ? 'mine' : 'theirs', attrs: { 'data-testid': 'chat-message', 'data-id': c.id, 'data-mine': String(mine), 'data-state': delivered ? 'delivered' : 'pending' } }, [
      el('span', { className: 'who', i18n: mine ? 'hospitalMe' : 'hospitalOther' }),
      el('span', { className: 'when', text: when(c.sent) }),
      el('span', { className: 'text', attrs: { 'data-testid': 'chat-message-text' }, text: c.payload?.map((p) => p.contentString ?? '').join('') ?? '' }),
      mine ? el('span', { className: 'delivery', i18n: delivered ? 'hospitalDelivered' : 'hospitalPending' }) : null,
    ]);
    const earlier = c.id ? shown.get(c.id) : undefined;
    if (earlier) earlier.replaceWith(item);
    else list.append(item);
    if (c.id) shown.set(c.id, item);
  };

  const markEnded = () => {
    text.disabled = true;
    send.disabled = true;
    root.dataset.ended = 'true';
    state.dataset.state = 'ended';
    setText(state, 'hospitalVisitEnded');
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const message = text.value.trim();
    if (!message || send.disabled) return;
    send.disabled = true;
    showText(error, '');
    operation<Communication>(app, `Encounter/${encodeURIComponent(encounterId)}/$send-message`, [{ name: 'text', valueString: message }])
      .then((sent) => {
        text.value = '';
        show(sent);
      })
      .catch((err: unknown) => showText(error, failureText(err, isRefusal(err))))
      .finally(() => {
        if (root.dataset.ended !== 'true') send.disabled = false;
      });
  });

  void search<Communication>(app, `Communication?encounter=Encounter/${encodeURIComponent(encounterId)}&_sort=sent&_count=200`)
    .then(({ matches }) => matches.forEach(show))
    .catch((err: unknown) => showText(error, failureText(err, isRefusal(err))))
    .finally(() => {
      if (root.dataset.ended === 'true') return;
      const close = openLiveChannel(app, encounterId, {
        onMessage: show,
        onEnded: markEnded,
        onState: (next, reason) => {
          if (root.dataset.ended === 'true') return;
          state.dataset.state = next;
          setText(state, next === 'live' ? 'hospitalLiveConnected' : next === 'connecting' ? 'hospitalLiveConnecting' : 'hospitalLiveClosed');
          if (reason) state.title = reason;
        },
      });
      scope.add(close);
    });
  return { root, markEnded };
}
