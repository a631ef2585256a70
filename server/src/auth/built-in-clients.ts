// The hub's own browser apps as OAuth clients. The imaging viewer is served by the hub itself at
// /viewer/, so its only redirect URI is "this hub's origin + /viewer/" — and that origin differs
// per deployment (an ephemeral port in tests, SUHE_PUBLIC_BASE_URL in production). Storing one URI
// would be wrong everywhere else, and storing several (or a pattern) would widen what a stolen
// code can be sent to. So the viewer's redirect URI is computed from the same HubUrls that give
// the token issuer and audience: it can only ever name the hub that is answering, and it is still
// compared exactly (no prefixes, no other paths, no query).
import type { Client } from './clients.js';
import type { HubUrls } from './service.js';

export const VIEWER_CLIENT_ID = 'suhe-viewer';
/** Where the hub serves the viewer, below its origin; also the viewer's redirect path. */
export const VIEWER_PATH = '/viewer/';

/**
 * Reading images needs ImagingStudy search and read; reading reports are written
 * (DiagnosticReport create and update, through /imaging/…/reports), the recognition mark is set on
 * the ImagingStudy (update), and measurements are saved as Observations (create; withdrawn by an
 * update to entered-in-error). Nothing is
 * deleted. online_access: a refresh token that lives while the tab does (sessionStorage), so a
 * reading session outlasts one 15-minute access token.
 */
export const VIEWER_SCOPE = 'openid fhirUser online_access user/*.rs user/DiagnosticReport.cu user/ImagingStudy.u user/Observation.cu user/Appointment.cu user/Encounter.cu user/Communication.c user/Task.cu user/MedicationRequest.cud user/Provenance.c user/Contract.c user/ServiceRequest.cu user/Procedure.c user/Flag.cu';

export const VIEWER_CLIENT: Omit<Client, 'status'> = {
  clientId: VIEWER_CLIENT_ID,
  name: 'Suhe 影像阅片 (Image viewer)',
  kind: 'public',
  role: 'app',
  // Deliberately none stored: see viewerRedirectUri.
  redirectUris: [],
  scope: VIEWER_SCOPE,
};

/** Client ids the hub registers itself; the admin API and CLI may not register or overwrite them. */
export function isBuiltInClientId(clientId: string): boolean {
  return clientId === VIEWER_CLIENT_ID;
}

/** The viewer's one redirect URI as the hub answering this request is reached. */
export function viewerRedirectUri(urls: HubUrls): string {
  return `${urls.origin}${VIEWER_PATH}`;
}

/**
 * The redirect URIs an authorization request of this client may name (compared exactly): a
 * registered client's own list; the built-in viewer only the answering hub's /viewer/.
 */
export function allowedRedirectUris(client: Client, urls: HubUrls): string[] {
  if (client.clientId === VIEWER_CLIENT_ID && client.kind === 'public') return [viewerRedirectUri(urls)];
  return client.redirectUris;
}
