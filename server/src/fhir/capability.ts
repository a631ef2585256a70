// The CapabilityStatement tells the truth: it lists exactly the interactions and search
// parameters that the code supports, derived from the same registry the search compiler uses.
import type { CapabilityStatement, CapabilityStatementRestResource } from '@medplum/fhirtypes';
import { READ_ONLY_TYPES } from './access/enforce.js';
import type { OperationRegistry } from './module-operations.js';
import { COLUMN_PARAMS, type SearchParameterRegistry } from './search/parameters.js';

const SUPPORTED_SEARCH_TYPES = new Set(['number', 'date', 'string', 'token', 'reference', 'quantity', 'uri', 'composite']);
const ALL_INTERACTIONS = ['read', 'vread', 'update', 'patch', 'delete', 'history-instance', 'history-type', 'create', 'search-type'];
const READ_INTERACTIONS = ['read', 'vread', 'history-instance', 'history-type', 'search-type'];

const SEARCH_DOCUMENTATION = [
  'Search: every parameter type including composite; modifiers :missing, :exact, :contains, :text (string and token),',
  ':not, :in / :not-in (ValueSets stored here), :above / :below (uri, and tokens of CodeSystems stored here with a hierarchy),',
  ':of-type (identifier), :identifier and :[type] (reference); prefixes eq ne gt lt ge le sa eb ap with range semantics;',
  'chaining (several levels), _has (nested, and with chains inside); _include / _revinclude with * and :iterate (bounded,',
  'reported in an outcome entry); _sort on several keys, _count, _total (none, estimate, accurate), _summary, _elements;',
  'keyset paging; POST _search; system search (?_type=); compartment search Patient/{id}/{type}; Patient/$everything;',
  '[type]/$reindex after a new SearchParameter. Not supported (400): _text, _content, _filter, _query, _list, near,',
  'and searching contained resources (_contained=true|both).',
].join(' ');

function references(registry: SearchParameterRegistry, type: string): string[] {
  return registry.forType(type).filter((p) => p.type === 'reference').map((p) => `${type}:${p.code}`);
}

export function buildCapabilityStatement(registry: SearchParameterRegistry, base: string, profiles: string[], version: string, operations?: OperationRegistry): CapabilityStatement {
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
    searchInclude: [`${type}:*`, ...references(registry, type)],
    searchRevInclude: ['*'],
    // Parameters without an expression (_text, _content, _list, ...) are not offered: nothing indexes them.
    searchParam: registry
      .forType(type)
      .filter((p) => SUPPORTED_SEARCH_TYPES.has(p.type) && (p.expression || COLUMN_PARAMS.has(p.code)))
      .map((p) => ({ name: p.code, type: p.type as 'string', ...(p.url ? { definition: p.url } : {}) })),
    operation: [
      { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
      { name: 'reindex', definition: 'urn:suhe:OperationDefinition/reindex' },
      ...(type === 'Patient' ? [{ name: 'everything', definition: 'http://hl7.org/fhir/OperationDefinition/Patient-everything' }] : []),
      ...(operations?.listed(type) ?? []),
    ],
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
        documentation: SEARCH_DOCUMENTATION,
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }, { code: 'search-system' }],
        ...(operations?.listed().length ? { operation: operations.listed() } : {}),
        searchParam: [
          { name: '_type', type: 'token' },
          { name: '_count', type: 'number' },
          { name: '_sort', type: 'string' },
          { name: '_total', type: 'token' },
          { name: '_summary', type: 'token' },
          { name: '_elements', type: 'string' },
          { name: '_include', type: 'string' },
          { name: '_revinclude', type: 'string' },
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
