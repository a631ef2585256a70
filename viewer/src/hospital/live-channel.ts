// The online visit's live channel (WebSocket /hospital/visits/live): the first frame joins with
// the access token (a browser cannot set an Authorization header on a WebSocket, and a token in
// the URL would reach logs); then the hub pushes the other side's messages and the visit's end.
import type { AppContext } from '../app-context.js';
import { openHubSocket, type SocketState } from '../ui/hub-socket.js';
import type { FhirResource } from './hospital-api.js';

export type LiveState = SocketState;

export interface LiveHandlers {
  /** Messages that waited for this side and were delivered on joining, then each new one, and ours again once delivered. */
  onMessage(communication: FhirResource): void;
  onEnded(): void;
  onState(state: LiveState, reason?: string): void;
}

/** Opens the channel for `encounterId`; answers the function that closes it. */
export function openLiveChannel(app: AppContext, encounterId: string, handlers: LiveHandlers): () => void {
  return openHubSocket(app, '/hospital/visits/live', { encounter: encounterId }, {
    onState: handlers.onState,
    onFrame: (frame) => {
      const communications = (list: unknown) => (Array.isArray(list) ? (list as FhirResource[]) : []);
      if (frame.type === 'joined') for (const communication of communications(frame.delivered)) handlers.onMessage(communication);
      else if (frame.type === 'message' && frame.communication) handlers.onMessage(frame.communication as FhirResource);
      // Our messages that waited have reached the other side: shown again with their new state.
      else if (frame.type === 'delivered') for (const communication of communications(frame.communications)) handlers.onMessage(communication);
      else if (frame.type === 'ended') handlers.onEnded();
    },
  });
}
