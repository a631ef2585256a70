// The duty desk's live channel (WebSocket /community/duty-desk/live, NU-08): the first frame joins
// with the access token and the institution (no token in the URL, where logs would keep it); then
// the hub pushes each nurse's alarm and each resolution. The channel only listens.
import type { AppContext } from '../app-context.js';
import type { FhirResource } from '../hospital/hospital-api.js';

export type DeskState = 'connecting' | 'live' | 'closed';
export interface AlarmFrame {
  flag: FhirResource;
  task?: string;
  patient?: string;
  nurse?: string;
  position?: { latitude: number; longitude: number } | null;
  note?: string;
}
export interface DeskHandlers {
  onAlarm(frame: AlarmFrame): void;
  onResolved(flag: string): void;
  onState(state: DeskState, reason?: string): void;
}

/** Joins the duty desk of `organization` ("Organization/<id>"); answers the function that leaves it. */
export function openDeskChannel(app: AppContext, organization: string, handlers: DeskHandlers): () => void {
  const url = new URL(app.hub.fhirBase.replace(/\/fhir$/, '/community/duty-desk/live'));
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  let closedByUs = false;
  const ws = new WebSocket(url.href);
  handlers.onState('connecting');
  ws.addEventListener('open', () => {
    void app.session.accessToken().then(
      (token) => ws.send(JSON.stringify({ type: 'join', token, organization })),
      () => ws.close(),
    );
  });
  ws.addEventListener('message', (event) => {
    let frame: Partial<AlarmFrame> & { type?: string; message?: string; flag?: unknown };
    try {
      frame = JSON.parse(String(event.data));
    } catch {
      return;
    }
    if (frame.type === 'joined') handlers.onState('live');
    else if (frame.type === 'alarm' && frame.flag && typeof frame.flag === 'object') handlers.onAlarm(frame as AlarmFrame);
    else if (frame.type === 'alarm-resolved' && typeof frame.flag === 'string') handlers.onResolved(frame.flag);
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
