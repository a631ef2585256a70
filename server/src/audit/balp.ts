// Builds FHIR R4 AuditEvents in the shape of IHE Basic Audit Log Patterns (BALP 1.1, which is R4).
// Pure: the caller gathers who/what/when from the request; nothing here touches the store or logs.
// Secrets never enter: the caller passes the token's jti (not the token), and credentials that
// could ride in a query string or form body are masked before the query is recorded.
import { isIP } from 'node:net';
import type { AuditEvent, AuditEventAgent, AuditEventEntity, CodeableConcept, Coding } from '@medplum/fhirtypes';

export type AuditAction = 'create' | 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'search' | 'history' | 'operation' | 'login' | 'logout' | 'token' | 'denied';

export interface AuditInput {
  action: AuditAction;
  /** For 'denied': the interaction that was refused; its type/subtype/action are recorded. */
  deniedInteraction?: AuditAction;
  outcome: 'success' | 'minor-failure' | 'serious-failure';
  outcomeDescription?: string;
  recorded: string;
  observer: { display: string; base: string };
  client?: { id: string; display?: string; address?: string };
  user?: { reference?: string; id?: string; display?: string; role?: string };
  tokenId?: string;
  resource?: { type: string; id?: string; versionId?: string };
  patients?: string[];
  query?: { method: string; url: string; body?: string };
  requestId?: string;
  purposeOfUse?: { system: string; code: string; display?: string };
  /** An imaging access also coded as its DICOM audit event (DCM 110103/110104/110112). */
  dicomEvent?: 'instances-accessed' | 'instances-transferred' | 'query';
  reason?: string;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const BALP_CS = 'https://profiles.ihe.net/ITI/BALP/CodeSystem';
// Our own code system for what neither BALP nor DICOM names (see tokenIssued below).
export const SUHE_AUDIT_SUBTYPE = 'https://suhe.example.cn/fhir/CodeSystem/audit-subtype';

const REST_TYPE: Coding = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'Restful Operation' };
const USER_AUTH_TYPE: Coding = { system: DCM, code: '110114', display: 'User Authentication' };
const LOGIN: Coding = { system: DCM, code: '110122', display: 'Login' };
const LOGOUT: Coding = { system: DCM, code: '110123', display: 'Logout' };
// A token grant (authorization code exchange, refresh, client_credentials) is an authentication
// event but not a DICOM "Login": no user session starts, and client_credentials has no user at
// all. Nor is it a RESTful interaction on a FHIR resource, so audit-event-type|rest would be
// wrong too. We keep the DICOM type (so AuditEvent?type=110114 finds every auth event) and say
// what happened with a subtype from our own code system.
const TOKEN_ISSUED: Coding = { system: SUHE_AUDIT_SUBTYPE, code: 'token-issued', display: 'Access token issued' };

const APPLICATION: Coding = { system: DCM, code: '110150', display: 'Application' };
const DESTINATION: Coding = { system: DCM, code: '110152', display: 'Destination Role ID' };
const SOURCE: Coding = { system: DCM, code: '110153', display: 'Source Role ID' };
const CUSTODIAN: Coding = { system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'custodian', display: 'Custodian' };
const AUTHZ_SERVER: Coding = { system: `${BALP_CS}/UserAgentTypes`, code: 'AuthzOauthService', display: 'OAuth Authorization Server' };
const OAUTH_USER: Coding = { system: `${BALP_CS}/UserAgentTypes`, code: 'UserOauthAgent', display: 'User OAuth Agent participant' };
const IRCP: Coding = { system: PARTICIPATION, code: 'IRCP', display: 'information recipient' };
const AUTHOR: Coding = { system: PARTICIPATION, code: 'AUT', display: 'author (originator)' };
const HUMAN: Coding = { system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'humanuser', display: 'human user' };

const OUTCOME = { success: '0', 'minor-failure': '4', 'serious-failure': '8' } as const;

type Shape = { type: Coding; subtype?: Coding; action: AuditEvent['action']; client: Coding; server: Coding; user: Coding };

/** The BALP pattern of one interaction: event type/subtype/action and the agents' type codes. */
function shapeOf(action: AuditAction, resource: AuditInput['resource']): Shape {
  const rest = (code: string | undefined, act: AuditEvent['action'], client: Coding, server: Coding, user: Coding): Shape =>
    ({ type: REST_TYPE, subtype: code ? { system: 'http://hl7.org/fhir/restful-interaction', code } : undefined, action: act, client, server, user });
  // Login/logout/token: the hub acts as the OAuth authorization server, the person is a human user.
  const auth = (subtype: Coding): Shape => ({ type: USER_AUTH_TYPE, subtype, action: 'E', client: APPLICATION, server: AUTHZ_SERVER, user: HUMAN });
  switch (action) {
    case 'read':
    case 'vread':
      return rest(action, 'R', DESTINATION, SOURCE, IRCP);
    case 'create':
    case 'update':
    case 'patch':
      return rest(action, action === 'create' ? 'C' : 'U', SOURCE, DESTINATION, AUTHOR);
    case 'delete':
      return rest('delete', 'D', APPLICATION, CUSTODIAN, AUTHOR);
    case 'search':
      return rest(resource?.type ? 'search-type' : 'search-system', 'E', SOURCE, DESTINATION, IRCP);
    case 'history': {
      const level = resource?.id ? 'history-instance' : resource?.type ? 'history-type' : 'history-system';
      return rest(level, 'E', SOURCE, DESTINATION, IRCP);
    }
    case 'operation':
      return rest('operation', 'E', SOURCE, DESTINATION, IRCP);
    case 'login':
      return auth(LOGIN);
    case 'logout':
      return auth(LOGOUT);
    case 'token':
      return auth(TOKEN_ISSUED);
    case 'denied':
      // A refusal whose interaction is unknown: still a REST exchange, with no subtype.
      return rest(undefined, 'E', SOURCE, DESTINATION, IRCP);
  }
}

/** PS3.15 A.5.3 event IDs, as subtypes beside BALP's RESTful interaction. */
const DICOM_EVENT: Record<NonNullable<AuditInput['dicomEvent']>, Coding> = {
  'instances-accessed': { system: DCM, code: '110103', display: 'DICOM Instances Accessed' },
  'instances-transferred': { system: DCM, code: '110104', display: 'DICOM Instances Transferred' },
  query: { system: DCM, code: '110112', display: 'Query' },
};

export function buildAuditEvent(input: AuditInput): AuditEvent {
  const denied = input.action === 'denied';
  const shape = shapeOf(denied ? (input.deniedInteraction ?? 'denied') : input.action, input.resource);
  // A refusal is at least a minor failure even if the caller reports the request as handled.
  const outcome = denied && input.outcome === 'success' ? '4' : OUTCOME[input.outcome];

  const agents: AuditEventAgent[] = [];
  const user = input.user && (input.user.reference || input.user.id || input.user.display) ? input.user : undefined;
  if (user) {
    agents.push({
      type: { coding: [shape.user] },
      // fhirUser when known, else the account id; `who` is never empty (user has one of the three).
      who: {
        ...(user.reference ? { reference: user.reference } : user.id ? { identifier: { system: 'urn:suhe:account', value: user.id } } : {}),
        ...(user.display ? { display: user.display } : {}),
      },
      ...(user.display ? { name: user.display } : {}),
      ...(user.role ? { role: [{ text: user.role }] } : {}),
      requestor: true,
    });
  }
  if (input.client) {
    const { id, display, address } = input.client;
    agents.push({
      type: { coding: [shape.client] },
      who: { identifier: { system: 'urn:suhe:oauth-client', value: id }, display: display ?? id },
      requestor: !user,
      ...(address ? { network: { address, type: isIP(address) ? '2' : '1' } } : {}),
    });
  }
  agents.push({ type: { coding: [shape.server] }, who: { display: input.observer.display }, requestor: false, network: { address: input.observer.base, type: '5' } });

  // BALP puts the token id and the purpose of use on the "user" agent, which it defines as the
  // highest agent responsible for the request: the person, or the client when acting alone.
  const requestor = agents.find((a) => a.requestor);
  if (requestor && input.tokenId) {
    requestor.type = { coding: [...(requestor.type?.coding ?? []), OAUTH_USER] };
    requestor.policy = [tokenIdOnly(input.tokenId)];
  }
  const purpose: CodeableConcept | undefined =
    input.purposeOfUse || input.reason ? { ...(input.purposeOfUse ? { coding: [input.purposeOfUse] } : {}), ...(input.reason ? { text: input.reason } : {}) } : undefined;
  if (purpose && requestor) requestor.purposeOfUse = [purpose];
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    type: shape.type,
    ...(shape.subtype || input.dicomEvent ? { subtype: [...(shape.subtype ? [shape.subtype] : []), ...(input.dicomEvent ? [DICOM_EVENT[input.dicomEvent]] : [])] } : {}),
    action: shape.action,
    recorded: input.recorded,
    outcome,
    ...(input.outcomeDescription ? { outcomeDesc: input.outcomeDescription } : {}),
    // With no requestor agent the purpose still belongs to the event as a whole.
    ...(purpose && !requestor ? { purposeOfEvent: [purpose] } : {}),
    agent: agents,
    source: {
      observer: { display: input.observer.display },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
  };
  const entities = entitiesOf(input);
  return entities.length ? { ...event, entity: entities } : event;
}

// A jti is short. Anything long was probably the token itself passed by mistake: keep only its
// last 32 characters, which BALP allows for opaque tokens and which cannot be replayed.
function tokenIdOnly(tokenId: string): string {
  return tokenId.length > 64 ? tokenId.slice(-32) : tokenId;
}

const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

function entitiesOf(input: AuditInput): AuditEventEntity[] {
  const out: AuditEventEntity[] = [];
  const r = input.resource;
  if (r?.id) {
    out.push({
      what: { reference: `${r.type}/${r.id}${r.versionId ? `/_history/${r.versionId}` : ''}` },
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
    });
  }
  // A Patient is its own patient: BALP's PatientRead etc. carry it both as data and as patient.
  const patients = new Set(input.patients ?? []);
  if (r?.type === 'Patient' && r.id) patients.add(r.id);
  for (const id of patients) {
    out.push({
      what: { reference: `Patient/${id}` },
      type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
      role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
    });
  }
  if (input.query) {
    const { method, url, body } = input.query;
    const safeUrl = maskUrl(url);
    const raw = `${method.toUpperCase()} ${safeUrl}${body ? `\n${maskForm(body)}` : ''}`;
    // Plain path+query for people; a malformed URL is kept as given rather than failing the audit.
    const parsed = URL.canParse(safeUrl, input.observer.base) ? new URL(safeUrl, input.observer.base) : undefined;
    out.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      query: Buffer.from(raw, 'utf8').toString('base64'),
      description: parsed ? `${parsed.pathname}${parsed.search}` : safeUrl,
    }); // no `name`: sev-1 forbids name and query together
  }
  if (input.requestId) {
    out.push({
      what: { identifier: { value: input.requestId } },
      type: { system: `${BALP_CS}/BasicAuditEntityType`, code: 'XrequestId', display: 'X-Request-Id' },
    });
  }
  return out;
}

// Parameters that carry credentials (RFC 6750 allows ?access_token=). FHIR search parameters never
// use these names, so masking them loses nothing the audit needs.
const SECRET_PARAMS = new Set(['access_token', 'refresh_token', 'id_token', 'password', 'client_secret', 'client_assertion', 'code_verifier']);

function maskForm(form: string): string {
  // JSON or XML bodies are not form data; FHIR POST _search bodies are always form-encoded.
  if (/^\s*[{<[]/.test(form)) return form;
  return form
    .split('&')
    .map((pair) => {
      const key = pair.split('=', 1)[0];
      return SECRET_PARAMS.has(decodeKey(key).toLowerCase()) ? `${key}=***` : pair;
    })
    .join('&');
}

function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key; // a malformed escape: compare the raw key
  }
}

function maskUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hash = url.indexOf('#', q);
  const end = hash < 0 ? url.length : hash;
  return `${url.slice(0, q + 1)}${maskForm(url.slice(q + 1, end))}${url.slice(end)}`;
}

/** Ids of the patients an AuditEvent's entities point at (what the R4 `patient` parameter finds). */
export function auditPatients(ev: AuditEvent): string[] {
  const ids = new Set<string>();
  for (const e of ev.entity ?? []) {
    const m = /^Patient\/([^/]+)/.exec(e.what?.reference ?? '');
    if (m) ids.add(m[1]);
  }
  return [...ids];
}
