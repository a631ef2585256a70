// The duty desk's live channel (WebSocket /community/duty-desk/live, NU-08): the first frame joins
// with the access token and the institution (no token in the URL, where logs would keep it); then
// the hub pushes each nurse's alarm and each resolution. The channel only listens.
import type { AppContext } from '../app-context.js';
import type { FhirResource } from '../hospital/hospital-api.js';
import { openHubSocket, type SocketState } from '../ui/hub-socket.js';

export type DeskState = SocketState;
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
  return openHubSocket(app, '/community/duty-desk/live', { organization }, {
    onState: handlers.onState,
    onFrame: (frame) => {
      if (frame.type === 'alarm' && frame.flag && typeof frame.flag === 'object') handlers.onAlarm(frame as unknown as AlarmFrame);
      else if (frame.type === 'alarm-resolved' && typeof frame.flag === 'string') handlers.onResolved(frame.flag);
    },
  });
}
