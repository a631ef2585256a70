// A federation source as FHIR sees it: the institution's Organization and an Endpoint tagged as a
// source, whose address is the institution's FHIR base and whose extension says how to pull from
// it (auth method, resource types, schedule, limits). Keeping sources in FHIR means they are
// searched, versioned and audited like everything else; only credentials live outside (fed_credential).
import type { Endpoint, Extension } from '@medplum/fhirtypes';
import { Invalid } from '../fhir/errors.js';

export const FEDERATION_CODES = 'https://suhe.example.cn/fhir/CodeSystem/federation';
export const SOURCE_TAG = { system: FEDERATION_CODES, code: 'source', display: 'Federation source' };
export const SOURCE_EXTENSION = 'https://suhe.example.cn/fhir/StructureDefinition/federation-source';

export type SourceAuth = 'none' | 'client-credentials' | 'bearer';
const AUTH_METHODS: SourceAuth[] = ['none', 'client-credentials', 'bearer'];

/** What a sync pulls when the source names no types: a patient's record and what it points at. */
export const DEFAULT_SOURCE_TYPES = [
  'Organization', 'Practitioner', 'PractitionerRole', 'Location', 'Patient', 'Encounter', 'Condition', 'Observation',
  'Procedure', 'MedicationRequest', 'Immunization', 'AllergyIntolerance', 'DiagnosticReport', 'CarePlan', 'CareTeam',
  'Goal', 'ImagingStudy', 'DocumentReference', 'Device', 'Claim', 'ExplanationOfBenefit', 'Coverage',
];

export interface Source {
  endpointId: string;
  /** Short unique name used by the CLI, e.g. `district-hospital`. */
  name: string;
  /** `Organization/<id>`: the institution the data comes from (named in every Provenance). */
  organization: string;
  baseUrl: string;
  status: 'active' | 'off';
  types: string[];
  auth: SourceAuth;
  clientId?: string;
  scope?: string;
  /** Minutes between scheduled pulls; 0 = only on demand. */
  scheduleMinutes: number;
  /** Resource types pulled at once from this source. */
  concurrency: number;
  /** Requests per second to this source at most. */
  ratePerSecond: number;
  pageSize: number;
  /** The OAuth client id of the institution system that pushes this source's data ($ingest). */
  pushClient?: string;
  /** Pull by Bulk Data `$export` when the source advertises it (else page through searches). */
  bulk: boolean;
}

export const SOURCE_DEFAULTS = { scheduleMinutes: 0, concurrency: 2, ratePerSecond: 20, pageSize: 100, auth: 'none' as SourceAuth, bulk: true };

/** `meta.source` of everything stored from this source. */
export function sourceUri(source: Pick<Source, 'endpointId'>): string {
  return `Endpoint/${source.endpointId}`;
}

export function isSourceEndpoint(endpoint: Endpoint): boolean {
  return (endpoint.meta?.tag ?? []).some((t) => t.system === SOURCE_TAG.system && t.code === SOURCE_TAG.code);
}

export function sourceEndpoint(source: Omit<Source, 'endpointId'> & { endpointId?: string }): Endpoint {
  const ext: Extension[] = [
    ...source.types.map((t) => ({ url: 'resourceType', valueCode: t })),
    { url: 'auth', valueCode: source.auth },
    ...(source.clientId ? [{ url: 'clientId', valueString: source.clientId }] : []),
    ...(source.scope ? [{ url: 'scope', valueString: source.scope }] : []),
    { url: 'scheduleMinutes', valueInteger: source.scheduleMinutes },
    { url: 'concurrency', valueInteger: source.concurrency },
    { url: 'ratePerSecond', valueDecimal: source.ratePerSecond },
    { url: 'pageSize', valueInteger: source.pageSize },
    ...(source.pushClient ? [{ url: 'pushClient', valueString: source.pushClient }] : []),
    { url: 'bulkExport', valueBoolean: source.bulk },
  ];
  return {
    resourceType: 'Endpoint',
    ...(source.endpointId ? { id: source.endpointId } : {}),
    meta: { tag: [SOURCE_TAG] },
    status: source.status,
    name: source.name,
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    managingOrganization: { reference: source.organization },
    payloadType: [{ coding: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Bundle' }], text: 'FHIR R4 resources' }],
    payloadMimeType: ['application/fhir+json'],
    address: source.baseUrl,
    extension: [{ url: SOURCE_EXTENSION, extension: ext }],
  };
}

/** Reads a source Endpoint; a malformed one is refused with what to fix. */
export function sourceFromEndpoint(endpoint: Endpoint): Source {
  const label = `Endpoint/${endpoint.id ?? '?'}`;
  const ext = endpoint.extension?.find((e) => e.url === SOURCE_EXTENSION)?.extension ?? [];
  const one = (url: string) => ext.find((e) => e.url === url);
  const auth = (one('auth')?.valueCode ?? SOURCE_DEFAULTS.auth) as SourceAuth;
  if (!AUTH_METHODS.includes(auth)) throw new Invalid(`${label}: auth must be one of ${AUTH_METHODS.join(', ')}, got '${auth}'`);
  if (!endpoint.name) throw new Invalid(`${label}: a source Endpoint needs a name`);
  if (!endpoint.managingOrganization?.reference?.startsWith('Organization/')) throw new Invalid(`${label}: managingOrganization must be the source's Organization`);
  checkBaseUrl(endpoint.address, label);
  const number = (url: string, fallback: number) => {
    const e = one(url);
    const value = e?.valueInteger ?? e?.valueDecimal;
    return typeof value === 'number' && value >= 0 ? value : fallback;
  };
  const types = ext.filter((e) => e.url === 'resourceType').map((e) => e.valueCode!).filter(Boolean);
  return {
    endpointId: endpoint.id!,
    name: endpoint.name,
    organization: endpoint.managingOrganization.reference,
    baseUrl: endpoint.address.replace(/\/+$/, ''),
    status: endpoint.status === 'active' ? 'active' : 'off',
    types: types.length ? types : DEFAULT_SOURCE_TYPES,
    auth,
    clientId: one('clientId')?.valueString,
    scope: one('scope')?.valueString,
    scheduleMinutes: number('scheduleMinutes', SOURCE_DEFAULTS.scheduleMinutes),
    concurrency: Math.max(1, number('concurrency', SOURCE_DEFAULTS.concurrency)),
    ratePerSecond: Math.max(0.1, number('ratePerSecond', SOURCE_DEFAULTS.ratePerSecond)),
    pageSize: Math.max(1, Math.min(1000, number('pageSize', SOURCE_DEFAULTS.pageSize))),
    pushClient: one('pushClient')?.valueString,
    bulk: one('bulkExport')?.valueBoolean ?? SOURCE_DEFAULTS.bulk,
  };
}

export function checkBaseUrl(address: string | undefined, label = 'source'): asserts address is string {
  let url: URL;
  try {
    url = new URL(address ?? '');
  } catch {
    throw new Invalid(`${label}: the address '${address ?? ''}' is not a URL; give the source's FHIR base, e.g. https://fhir.hospital.example/fhir`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Invalid(`${label}: the address must be http or https, got ${url.protocol}`);
}

/** Source names are CLI arguments: keep them simple. */
export function checkSourceName(name: string | undefined): asserts name is string {
  if (!name || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) {
    throw new Invalid(`A source name is 1-63 lower-case letters, digits and dashes (e.g. district-hospital), got '${name ?? ''}'`);
  }
}
