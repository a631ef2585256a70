// What the home-nursing module needs from the hub, passed in (app.ts wires it), and the duty desk:
// the live clients of each provider institution that alarms (NU-08) are pushed to.
import type { FhirRepository } from '../../fhir/repository.js';

export interface HomeNursingDeps {
  repo: FhirRepository;
  /** Now (shared with the hospital: tests move one clock for all). */
  clock: { now(): Date };
  /** The duty desks connected over WebSocket (index.ts makes one when absent). */
  desk: DutyDesk;
}

export interface DeskClient {
  /** Who is at the desk (Practitioner/… or the admin's client). */
  who: string;
  send(frame: unknown): void;
}

/** The connected duty-desk clients, by the Organization they watch. */
export class DutyDesk {
  private readonly clients = new Map<string, Set<DeskClient>>();

  join(organization: string, client: DeskClient): () => void {
    let set = this.clients.get(organization);
    if (!set) this.clients.set(organization, (set = new Set()));
    set.add(client);
    return () => {
      set!.delete(client);
      if (!set!.size) this.clients.delete(organization);
    };
  }

  /** Sends a frame to every client of the institution; how many got it. */
  push(organization: string, frame: unknown): number {
    const set = this.clients.get(organization);
    if (!set) return 0;
    for (const c of set) c.send(frame);
    return set.size;
  }
}
