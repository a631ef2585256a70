// The online visit's live channel (WebSocket /hospital/visits/live): the first frame joins with
// the access token (a browser cannot set an Authorization header on a WebSocket, and a token in
// the URL would reach logs); then the hub pushes the other side's messages and the visit's end.
import type { AppContext } from '../app-context.js';
import type { FhirResource } from './hospital-api.js';

export type LiveState = 'connecting' | 'live' | 'closed';

export interface LiveHandlers {
  /** Messages that waited for this side and were delivered on joining, then each new one, and ours again once delivered. */
  onMessage(communication: FhirResource): void;
  onEnded(): void;
  onState(state: LiveState, reason?: string): void;
}

/** Opens the channel for `encounterId`; answers the function that closes it. */
export function openLiveChannel(app: AppContext, encounterId: string, handlers: LiveHandlers): () => void {
  const url = new URL(app.hub.fhirBase.replace(/\/fhir$/, '/hospital/visits/live'));
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  let closedByUs = false;
  const ws = new WebSocket(url.href);
  handlers.onState('connecting');
  ws.addEventListener('open', () => {
    void app.session.accessToken().then(
      (token) => ws.send(JSON.stringify({ type: 'join', token, encounter: encounterId })),
      () => ws.close(),
    );
  });
  ws.addEventListener('message', (event) => {
    let frame: { type?: string; delivered?: FhirResource[]; communications?: FhirResource[]; communication?: FhirResource; message?: string };
    try {
      frame = JSON.parse(String(event.data));
    } catch {
      return;
    }
    if (frame.type === 'joined') {
      handlers.onState('live');
      for (const communication of frame.delivered ?? []) handlers.onMessage(communication);
    } else if (frame.type === 'message' && frame.communication) handlers.onMessage(frame.communication);
    // Our messages that waited have reached the other side: shown again with their new state.
    else if (frame.type === 'delivered') for (const communication of frame.communications ?? []) handlers.onMessage(communication);
    else if (frame.type === 'ended') handlers.onEnded();
    else if (frame.type === 'error') handlers.onState('closed', frame.message);
  });
  ws.addEventListener('close', () => {
    if (!closedByUs) handlers.onState('closed');
  });
  return () => {
    closedByUs = true;
    ws.close();
  };
}
