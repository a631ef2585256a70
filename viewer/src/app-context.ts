// What every screen gets: the hub's addresses, the signed-in client, the loader's catalogue, and
// navigation. Passed in, never global, so screens stay testable and independent.
import type { Session } from './auth/session.js';
import type { HttpClient, HubClient } from './dicomweb/http.js';
import type { HubLocation } from './hub-location.js';
import type { InstanceCatalogue } from './imaging/instance-catalogue.js';

export interface AppContext {
  hub: HubLocation;
  session: Session;
  client: HubClient;
  catalogue: InstanceCatalogue;
  /**
   * Where the reading screen and the image loader read DICOMweb: the hub's /dicomweb with the
   * signed-in `client`, or, opened from a share link, /imaging/shared/{token}/dicomweb with the
   * link's own client (share-client.ts: no token, the access code in a header).
   */
  dicomweb: { base: string; client: HttpClient };
  /**
   * Set only when the viewer was opened from a share link (#/shared/…): one study, read-only,
   * nobody signed in. Screens then leave out the worklist, sharing, reports and anything else
   * that needs an account; `client` and `session` hold no token (any use fails, never signs in).
   */
  sharedLink?: SharedLink;
  /** Goes to a route (#/..., see router.ts). */
  navigate(route: string): void;
  /** The token could not be renewed: sign in again and come back here. */
  signInAgain(): void;
}

export interface SharedLink {
  studyUid: string;
  /** When the link stops working (ISO 8601), when the hub said so. */
  expiresAt?: string;
}
