// Administration of the authorization server (admin tokens only): register and suspend clients,
// create accounts. Registering an institution's system creates its Organization (with licence
// number and unified social credit code) through the FHIR layer, audited like any other write.
import type { Request } from 'express';
import type { JsonWebKey } from 'node:crypto';
import type { Organization, Patient, Resource } from '@medplum/fhirtypes';
import type { InteractionContext } from '../fhir/interactions.js';
import { executeInteraction } from '../fhir/interactions.js';
import { isResidentIdSystem, parseResidentId } from '../fhir/identity/resident-id.js';
import { isBuiltInClientId } from './built-in-clients.js';
import { checkRegistration, type ClientKind, type ClientRole } from './clients.js';
import { institutionOrganization, institutionProblems, type InstitutionInput } from './institution.js';
import type { AuthService } from './service.js';
import { OAuthError } from './token-endpoint.js';
import { USER_ROLES, type UserRole } from './users.js';

export function jsonOf(req: Request): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
  } catch {
    throw new OAuthError(400, 'invalid_request', 'The body must be a JSON object');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new OAuthError(400, 'invalid_request', 'The body must be a JSON object');
  return body as Record<string, unknown>;
}

export async function registerClient(auth: AuthService, fhir: InteractionContext, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const role = (body.role ?? 'institution') as ClientRole;
  const kind = (body.kind ?? (body.jwks ? 'backend' : 'confidential')) as ClientKind;
  if (!['app', 'institution', 'admin'].includes(role)) throw new OAuthError(400, 'invalid_request', 'role must be app, institution or admin');
  if (!['public', 'confidential', 'backend'].includes(kind)) throw new OAuthError(400, 'invalid_request', 'kind must be public, confidential or backend');
  let organization = typeof body.organization === 'string' ? body.organization : undefined;
  const registration = {
    clientId: String(body.client_id ?? ''),
    name: String(body.name ?? ''),
    kind,
    role,
    redirectUris: Array.isArray(body.redirect_uris) ? body.redirect_uris.map(String) : [],
    scope: String(body.scope ?? ''),
    jwks: body.jwks as { keys: JsonWebKey[] } | undefined,
    secret: typeof body.client_secret === 'string' ? body.client_secret : undefined,
  };
  // Everything is checked before the Organization is created, so a refused registration stores nothing.
  if (isBuiltInClientId(registration.clientId)) throw new OAuthError(400, 'invalid_client_metadata', `client_id '${registration.clientId}' is built into the hub`);
  try {
    checkRegistration(registration);
  } catch (err) {
    throw new OAuthError(400, 'invalid_client_metadata', (err as Error).message);
  }
  if (role === 'institution' && !organization) {
    const input = (body.organization ?? {}) as Partial<InstitutionInput>;
    const problems = institutionProblems(input);
    if (problems.length) throw new OAuthError(400, 'invalid_request', problems.join('; '));
    const created = await executeInteraction(fhir, { method: 'POST', path: ['Organization'], query: [], body: institutionOrganization(input as InstitutionInput) });
    organization = `Organization/${(created.resource as Organization).id}`;
  }
  try {
    const { client, secret } = await auth.clients.register({ ...registration, organization });
    return { ...publicView(client), ...(secret ? { client_secret: secret } : {}) };
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    throw new OAuthError(400, 'invalid_client_metadata', (err as Error).message);
  }
}

export function publicView(client: { clientId: string; name: string; kind: string; role: string; scope: string; organization?: string; status: string; redirectUris: string[] }) {
  return { client_id: client.clientId, name: client.name, kind: client.kind, role: client.role, scope: client.scope, organization: client.organization, status: client.status, redirect_uris: client.redirectUris };
}

export async function createAccount(auth: AuthService, fhir: InteractionContext, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const role = String(body.role ?? '') as UserRole;
  if (!USER_ROLES.includes(role)) throw new OAuthError(400, 'invalid_request', `role must be one of ${USER_ROLES.join(', ')}`);
  const identity = body.identity as { system?: string; value?: string } | undefined;
  if (role === 'resident') {
    // IH-10: residents are real-name users; the account binds a verified identity document.
    if (!identity?.system || !identity.value) throw new OAuthError(400, 'invalid_request', 'a resident account needs identity {system, value} (resident ID number or another document)');
    if (isResidentIdSystem(identity.system)) {
      const parsed = parseResidentId(identity.value);
      if (!parsed.ok) throw new OAuthError(400, 'invalid_request', `identity.value is not a valid resident ID number (ID-01): ${parsed.reason}`);
    }
  }
  await checkIdentity(fhir, String(body.fhirUser ?? ''), role === 'resident' ? identity : undefined);
  try {
    const account = await auth.users.create({
      username: String(body.username ?? ''),
      password: String(body.password ?? ''),
      role,
      fhirUser: String(body.fhirUser ?? ''),
      practitionerRole: typeof body.practitionerRole === 'string' ? body.practitionerRole : undefined,
      identity: identity?.system && identity.value ? { system: identity.system, value: identity.value } : undefined,
    });
    return { id: account.id, username: account.username, role: account.role, fhirUser: account.fhirUser };
  } catch (err) {
    const message = (err as Error).message;
    if (/unique|duplicate/i.test(message)) throw new OAuthError(409, 'invalid_request', 'that username is taken');
    throw new OAuthError(400, 'invalid_request', message);
  }
}

/**
 * The FHIR identity must exist; a resident's verified document must be one of their Patient's
 * identifiers (the two resident-ID systems count as one, ID-02), so an account cannot be bound
 * to somebody else's record.
 */
async function checkIdentity(fhir: InteractionContext, fhirUser: string, identity: { system?: string; value?: string } | undefined): Promise<void> {
  const [type, id] = fhirUser.split('/');
  let resource: Resource | undefined;
  try {
    resource = (await executeInteraction(fhir, { method: 'GET', path: [type, id ?? ''], query: [] })).resource;
  } catch {
    resource = undefined;
  }
  if (!resource) throw new OAuthError(400, 'invalid_request', `fhirUser ${fhirUser} does not exist`);
  if (!identity) return;
  const sameSystem = (system?: string) => system === identity.system || (isResidentIdSystem(system) && isResidentIdSystem(identity.system));
  const identifiers = (resource as Patient).identifier ?? [];
  if (!identifiers.some((i) => sameSystem(i.system) && i.value?.toUpperCase() === identity.value?.toUpperCase())) {
    throw new OAuthError(400, 'invalid_request', `identity does not match any identifier of ${fhirUser} (IH-10: the account must bind the resident's own verified identity)`);
  }
}
