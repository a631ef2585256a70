// The live side of an online visit over WebSocket, at /hospital/visits/live. A browser cannot set
// an Authorization header on a WebSocket, and a token in the URL would reach logs, so the first
// message authenticates: {"type":"join","token":"<access token>","encounter":"<id>"}. Then:
// - {"type":"message","text":"…"} stores a Communication and pushes it to the other side
//   (messages waiting for this participant are delivered, and marked so, on joining; their
//   senders, when connected, get {"type":"delivered","communications":[…]});
// - {"type":"signal","data":{…}} relays WebRTC signalling (offer/answer/ICE) to the other side;
//   data.kind "call-start" / "call-end" also records the call's start and end (IH-12: kept 3 years);
// - the hub sends {"type":"ended"} and closes when the doctor ends the visit.
// Every refusal is a {"type":"error","message":"…"} and, before joining, a close.
import type { IncomingMessage, Server } from 'node:http';
import type { Encounter } from '@medplum/fhirtypes';
import { WebSocketServer, type WebSocket } from 'ws';
import type { AccessControl } from '../../fhir/access/access-control.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { HospitalDeps } from '../index.js';
import { callEvent } from './visit-resources.js';
import { deliverPending, sendMessage, visitParty } from './visit-operations.js';

export const VISIT_SOCKET_PATH = '/hospital/visits/live';
const JOIN_TIMEOUT_MS = 10_000;
const MAX_FRAME_BYTES = 256 * 1024;

export interface VisitSocketDeps {
  hospital: HospitalDeps;
  /** The caller's access for a token (undefined: not a valid token), as the HTTP guard would give it. */
  accessForToken(token: string, req: IncomingMessage): Promise<AccessControl | undefined>;
  context(access: AccessControl, req: IncomingMessage): InteractionContext;
}

export function attachVisitSockets(server: Server, deps: VisitSocketDeps): () => Promise<void> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== VISIT_SOCKET_PATH) return;
    wss.handleUpgrade(req, socket, head, (ws) => void serve(ws, req, deps).catch(() => ws.close(1011)));
  });
  return () =>
    new Promise((done) => {
      for (const client of wss.clients) client.terminate();
      wss.close(() => done());
    });
}

async function serve(ws: WebSocket, req: IncomingMessage, deps: VisitSocketDeps): Promise<void> {
  const send = (event: unknown) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(event));
  const refuse = (message: string) => {
    send({ type: 'error', message });
    ws.close(1008, message.slice(0, 120));
  };
  const joinTimer = setTimeout(() => refuse('Send {"type":"join","token":…,"encounter":…} first'), JOIN_TIMEOUT_MS);
  let session: { ctx: InteractionContext; encounterId: string; party: string; leave: () => void } | undefined;
  ws.on('close', () => {
    clearTimeout(joinTimer);
    session?.leave();
  });
  ws.on('message', (raw) => {
    void (async () => {
      let frame: { type?: string; token?: string; encounter?: string; text?: string; data?: { kind?: string } };
      try {
        frame = JSON.parse(raw.toString());
      } catch {
        return send({ type: 'error', message: 'Frames are JSON objects' });
      }
      if (!session) {
        if (frame.type !== 'join' || typeof frame.token !== 'string' || typeof frame.encounter !== 'string' || !/^[A-Za-z0-9\-.]{1,64}$/.test(frame.encounter)) {
          return refuse('Send {"type":"join","token":…,"encounter":…} first');
        }
        const access = await deps.accessForToken(frame.token, req);
        if (!access) return refuse('The access token is not valid');
        const ctx = deps.context(access, req);
        const encounter = (await ctx.repo.read('Encounter', frame.encounter).catch(() => undefined)) as Encounter | undefined;
        if (!encounter) return refuse(`No visit ${frame.encounter}`);
        const party = await visitParty(ctx, encounter).catch(() => undefined);
        if (!party) return refuse('Only the visit\'s doctor and patient (or the patient\'s guardian) take part in it');
        if (encounter.status !== 'in-progress') return refuse(`The visit is ${encounter.status}`);
        clearTimeout(joinTimer);
        const leave = deps.hospital.live.join(encounter.id!, { reference: party, send, close: () => ws.close(1000, 'visit ended') });
        session = { ctx, encounterId: encounter.id!, party, leave };
        const delivered = await deliverPending(ctx.repo, encounter.id!, party, deps.hospital.clock.now());
        send({ type: 'joined', encounter: encounter.id, as: party, delivered });
        // The senders of what just arrived see their "waiting" turn into "delivered".
        if (delivered.length) deps.hospital.live.push(encounter.id!, { type: 'delivered', communications: delivered }, party);
        return;
      }
      const encounter = (await session.ctx.repo.read('Encounter', session.encounterId)) as Encounter;
      try {
        if (frame.type === 'message') {
          await sendMessage(deps.hospital, session.ctx.repo, encounter, session.party, { text: frame.text });
        } else if (frame.type === 'signal' && frame.data && typeof frame.data === 'object') {
          deps.hospital.live.push(session.encounterId, { type: 'signal', from: session.party, data: frame.data }, session.party);
          if (frame.data.kind === 'call-start' || frame.data.kind === 'call-end') {
            await session.ctx.repo.create(callEvent(encounter, session.party, frame.data.kind === 'call-start' ? 'started' : 'ended', deps.hospital.clock.now()));
          }
        } else {
          send({ type: 'error', message: 'Frames are {"type":"message","text":…} or {"type":"signal","data":{…}}' });
        }
      } catch (err) {
        send({ type: 'error', message: (err as Error).message });
      }
    })();
  });
}
