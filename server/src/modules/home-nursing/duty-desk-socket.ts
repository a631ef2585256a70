// The provider institution's duty desk over WebSocket, at /community/duty-desk/live (NU-08): a
// nurse's one-tap alarm reaches it at once. As on the online-visit channel, the first frame
// authenticates (no token in the URL, where logs would keep it):
//   → {"type":"join","token":"<access token>","organization":"Organization/<id>"}
//   ← {"type":"joined","organization":"Organization/<id>"}
// Only staff with an active PractitionerRole at that organization, or an administrator, may join.
// Then the hub pushes
//   ← {"type":"alarm","flag":{…Flag},"task":"Task/<id>","patient":"Patient/<id>","nurse":"Practitioner/<id>","position":{latitude,longitude}|null,"note"?}
//   ← {"type":"alarm-resolved","flag":"Flag/<id>","task":"Task/<id>","by":"Practitioner/<id>","note":"…"}
// Every refusal is {"type":"error","message":"…"} and a close.
import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AccessControl } from '../../fhir/access/access-control.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import { organizationsOf } from './chain-store.js';
import type { DutyDesk } from './home-nursing-deps.js';

export const DUTY_DESK_SOCKET_PATH = '/community/duty-desk/live';
const JOIN_TIMEOUT_MS = 10_000;
const MAX_FRAME_BYTES = 16 * 1024;
const ORGANIZATION = /^Organization\/[A-Za-z0-9\-.]{1,64}$/;

export interface DutyDeskSocketDeps {
  desk: DutyDesk;
  /** The caller's access for a token (undefined: not a valid token), as the HTTP guard would give it. */
  accessForToken(token: string, req: IncomingMessage): Promise<AccessControl | undefined>;
  context(access: AccessControl, req: IncomingMessage): InteractionContext;
}

export function attachDutyDeskSockets(server: Server, deps: DutyDeskSocketDeps): () => Promise<void> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== DUTY_DESK_SOCKET_PATH) return;
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, req, deps));
  });
  return () =>
    new Promise((done) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => done());
    });
}

function serve(ws: WebSocket, req: IncomingMessage, deps: DutyDeskSocketDeps): void {
  const send = (frame: unknown) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(frame));
  const refuse = (message: string) => {
    send({ type: 'error', message });
    ws.close(1008, message.slice(0, 120));
  };
  const joinTimer = setTimeout(() => refuse('Send {"type":"join","token":…,"organization":"Organization/<id>"} first'), JOIN_TIMEOUT_MS);
  let leave: (() => void) | undefined;
  let joining = false;
  ws.on('close', () => {
    clearTimeout(joinTimer);
    leave?.();
  });
  ws.on('message', (raw) => {
    void (async () => {
      let frame: { type?: string; token?: string; organization?: string };
      try {
        frame = JSON.parse(raw.toString());
      } catch {
        return send({ type: 'error', message: 'Frames are JSON objects' });
      }
      if (leave || joining) return send({ type: 'error', message: 'The duty desk only listens; alarms are raised with Task/{id}/$alarm' });
      if (frame.type !== 'join' || typeof frame.token !== 'string' || typeof frame.organization !== 'string' || !ORGANIZATION.test(frame.organization)) {
        return refuse('Send {"type":"join","token":…,"organization":"Organization/<id>"} first');
      }
      joining = true;
      const access = await deps.accessForToken(frame.token, req).catch(() => undefined);
      if (!access) return refuse('The access token is not valid');
      const { role, user } = access.actor;
      const ctx = deps.context(access, req);
      const staff = (role === 'nurse' || role === 'doctor') && !!user?.startsWith('Practitioner/') && (await organizationsOf(ctx.repo, user)).includes(frame.organization);
      if (!staff && role !== 'admin') return refuse(`NU-08: only staff of ${frame.organization} (an active PractitionerRole there) or an administrator watch its duty desk`);
      if (ws.readyState !== ws.OPEN) return;
      clearTimeout(joinTimer);
      leave = deps.desk.join(frame.organization, { who: user ?? access.actor.clientId ?? 'admin', send });
      send({ type: 'joined', organization: frame.organization });
    })().catch(() => ws.close(1011));
  });
}
