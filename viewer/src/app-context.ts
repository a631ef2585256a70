// What every screen gets: the hub's addresses, the signed-in client, the loader's catalogue, and
// navigation. Passed in, never global, so screens stay testable and independent.
import type { Session } from './auth/session.js';
import type { HubClient } from './dicomweb/http.js';
import type { HubLocation } from './hub-location.js';
import type { InstanceCatalogue } from './imaging/instance-catalogue.js';

export interface AppContext {
  hub: HubLocation;
  session: Session;
  client: HubClient;
  catalogue: InstanceCatalogue;
  /** Goes to a route (#/..., see router.ts). */
  navigate(route: string): void;
  /** The token could not be renewed: sign in again and come back here. */
  signInAgain(): void;
}
