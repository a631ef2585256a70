// Who is connected to which online visit right now, and pushing events to them: new messages
// (delivered at once to a connected recipient — its delivery state follows), WebRTC signalling
// between the doctor's and the patient's devices (the hub only relays offers, answers and ICE
// candidates; media flows peer to peer), and the visit's end. In-process: one hub process.
export interface LiveParticipant {
  /** Practitioner/{id} or Patient/{id}: whom this connection speaks for. */
  reference: string;
  send(event: unknown): void;
  close(): void;
}

export class VisitLive {
  private readonly visits = new Map<string, Set<LiveParticipant>>();

  /** Adds a connection to a visit; answers the function that removes it. */
  join(encounterId: string, participant: LiveParticipant): () => void {
    let set = this.visits.get(encounterId);
    if (!set) this.visits.set(encounterId, (set = new Set()));
    set.add(participant);
    return () => {
      set.delete(participant);
      if (!set.size) this.visits.delete(encounterId);
    };
  }

  /** Whom the visit's open connections speak for (each once). */
  connected(encounterId: string): string[] {
    return [...new Set([...(this.visits.get(encounterId) ?? [])].map((p) => p.reference))];
  }

  /** Sends to every connection of the visit except those speaking for `except`; answers whom it reached. */
  push(encounterId: string, event: unknown, except?: string): string[] {
    const reached = new Set<string>();
    for (const p of this.visits.get(encounterId) ?? []) {
      if (p.reference === except) continue;
      p.send(event);
      reached.add(p.reference);
    }
    return [...reached];
  }

  /** Tells everyone the visit is over and closes their connections. */
  end(encounterId: string, event: unknown): void {
    for (const p of this.visits.get(encounterId) ?? []) {
      p.send(event);
      p.close();
    }
    this.visits.delete(encounterId);
  }
}
