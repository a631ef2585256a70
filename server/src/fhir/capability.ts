// The CapabilityStatement tells the truth: it lists exactly the interactions and search
// parameters that the code supports, derived from the same registry the search compiler uses.
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { READ_ONLY_TYPES } from './access/enforce.js';
import type { SearchParameterRegistry } from './search/parameters.js';

const SUPPORTED_SEARCH_TYPES = new Set(['number', 'date', 'string', 'token', 'reference', 'quantity', 'uri']);
const ALL_INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'];
const READ_INTERACTIONS = ['read', 'vread', 'history-instance', 'history-type', 'search-type'];

export function buildCapabilityStatement(registry: SearchParameterRegistry, base: string, profiles: string[], version: string): CapabilityStatement {
  const resource: CapabilityStatementRestResource[] = registry.resourceTypes.map((type) => ({
    type: type as CapabilityStatementRestResource['type'],
    ...(type === 'Patient' ? { supportedProfile: profiles } : {}),
    interaction: (READ_ONLY_TYPES.has(type) ? READ_INTERACTIONS : ALL_INTERACTIONS).map((code) => ({ code })) as CapabilityStatementRestResource['interaction'],
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: true,
    conditionalRead: 'not-supported',
    conditionalUpdate: true,
    conditionalDelete: 'single',
    referencePolicy: ['literal', 'logical'],
    searchParam: registry
      .forType(type)
      .filter((p) => SUPPORTED_SEARCH_TYPES.has(p.type))
      .map((p) => ({ name: p.code, type: p.type as 'string', ...(p.url ? { definition: p.url } : {}) })),
    operation: [{ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' }],
  }));
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    kind: 'instance',
    software: { name: 'Suhe', version },
    implementation: { description: 'Suhe district health-data hub', url: base },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json'],
    rest: [
      {
        mode: 'server',
        security: security(base),
        documentation: 'Search: modifiers :missing, :exact, :contains (string), :not, :text (token), :below (uri), :[type] (reference); prefixes eq ne gt lt ge le sa eb ap; _sort, _count, _total; keyset paging. Chaining, _has, _include and composite parameters are not supported yet.',
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
        searchParam: [
          { name: '_count', type: 'number' },
          { name: '_sort', type: 'string' },
          { name: '_total', type: 'token' },
        ],
      },
    ],
  };
}

/** SMART on FHIR: where to get tokens (also in /.well-known/smart-configuration). */
function security(base: string): NonNullable<CapabilityStatement['rest']>[number]['security'] {
  const issuer = `${base.replace(/\/fhir$/, '')}/oauth2`;
  return {
    cors: true,
    service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' }] }],
    description: 'OAuth2 / SMART on FHIR: every request needs a Bearer access token except this statement and /.well-known/smart-configuration.',
    extension: [
      {
        url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris',
        extension: [
          { url: 'token', valueUri: `${issuer}/token` },
          { url: 'authorize', valueUri: `${issuer}/authorize` },
          { url: 'introspect', valueUri: `${issuer}/introspect` },
          { url: 'revoke', valueUri: `${issuer}/revoke` },
        ],
      },
    ],
  };
}
