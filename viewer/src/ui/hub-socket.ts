// A live channel to the hub over WebSocket (the online visit, the duty desk). A browser cannot set
// an Authorization header on a WebSocket and a token in the URL would reach logs, so the first
// frame joins with the access token; then every JSON frame the hub sends goes to `onFrame`.
import type { AppContext } from '../app-context.js';

export type SocketState = 'connecting' | 'live' | 'closed';

export interface HubSocketHandlers {
  /** Every frame but `error` (which closes the state with its message); `joined` also makes the state live. */
  onFrame(frame: { type?: string; [key: string]: unknown }): void;
  onState(state: SocketState, reason?: string): void;
}

/** Opens `path` on the hub and joins with `join` plus the token; answers the function that closes it. */
export function openHubSocket(app: AppContext, path: string, join: Record<string, unknown>, handlers: HubSocketHandlers): () => void {
  const url = new URL(app.hub.fhirBase.replace(/\/fhir$/, path));
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  let closedByUs = false;
  const ws = new WebSocket(url.href);
  handlers.onState('connecting');
  ws.addEventListener('open', () => {
    void app.session.accessToken().then(
      (token) => ws.send(JSON.stringify({ type: 'join', token, ...join })),
      () => ws.close(),
    );
  });
  ws.addEventListener('message', (event) => {
    let frame: { type?: string; message?: string; [key: string]: unknown };
    try {
      frame = JSON.parse(String(event.data));
    } catch {
      return;
    }
    if (frame.type === 'joined') handlers.onState('live');
    if (frame.type === 'error') handlers.onState('closed', frame.message);
    else handlers.onFrame(frame);
  });
  ws.addEventListener('close', () => {
    if (!closedByUs) handlers.onState('closed');
  });
  return () => {
    closedByUs = true;
    ws.close();
  };
}
