import type { SearchParamDef } from './parameters.js';

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';
export const PREFIXES: Prefix[] = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

/**
 * One condition of a search. Separate filters are AND-ed; the values of one filter are OR-ed.
 * Chains and `_has` nest a filter that applies to other resources.
 */
export type Filter = ValueFilter | ChainFilter | HasFilter | CompartmentFilter;

/** `name:modifier=v1,v2` on the resource itself. */
export interface ValueFilter {
  kind: 'value';
  param: SearchParamDef;
  modifier?: string;
  values: string[];
  /**
   * Codes a terminology modifier (`:in`, `:not-in`, `:above`, `:below` on tokens) stands for,
   * filled in from ValueSets and CodeSystems stored on the server before the SQL is built.
   */
  codes?: CodeSet;
  /**
   * Set on a reference filter of a one-type search whose resources have their token rows keyed by
   * the patient it names (index/extract.ts keyTokensByPatient). When, as compiled, it names one
   * Patient (`subject=Patient/123`: after a golden record is expanded to its sources it may name
   * several), the token filters AND-ed with it read only that patient's rows (search/where.ts).
   */
  keysTokens?: boolean;
  /**
   * Set with keysTokens where a token row keyed by the patient proves this filter holds
   * (SearchParameterRegistry.keyedTokensImply): a search that also reads such rows leaves it out.
   */
  impliedByKeyedTokens?: boolean;
}

/** Codes per system; an empty list means "any code of this system". */
export type CodeSet = Map<string, string[]>;

/** `reference[:Type].rest=...`: the reference points at a resource that matches `inner`. */
export interface ChainFilter {
  kind: 'chain';
  param: SearchParamDef;
  /** One nested filter per target type the chain may reach. */
  targets: { type: string; inner: Filter }[];
}

/** `_has:Type:reference:rest=...`: some `Type` resource matching `inner` points here through `reference`. */
export interface HasFilter {
  kind: 'has';
  type: string;
  reference: SearchParamDef;
  inner: Filter;
}

/** Compartment search (`Patient/123/Observation`): the resource is in that patient's compartment. */
export interface CompartmentFilter {
  kind: 'compartment';
  /** One patient, or a golden record with its linked source Patients. */
  patients: readonly string[];
  /** The compartment's search parameters for the searched type(s). */
  params: Readonly<Record<string, readonly string[]>>;
}

export interface SortKey {
  param: SearchParamDef;
  descending: boolean;
}

export type TotalMode = 'none' | 'accurate' | 'estimate';
export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

/** `_include` / `_revinclude`: `Source:param[:Target]`, or `Source:*`. */
export interface IncludeSpec {
  source: string;
  /** Reference parameter codes of `source` (several for `*`). */
  params: string[];
  target?: string;
  iterate: boolean;
  reverse: boolean;
}

/**
 * Access control (never the client): only resources in the compartments of these patients, or
 * (`except`) none in theirs. Applied to every resource type a search touches (chains, `_has`,
 * includes), so nothing outside the caller's patients is matched, counted or returned.
 */
export interface AccessRestriction {
  patients: readonly string[];
  except?: boolean;
  /** Patient-compartment parameters of every compartment type; types absent are not restricted. */
  params: Readonly<Record<string, readonly string[]>>;
  /** Types whose resources linked to no patient at all pass the restriction (nobody's patient data). */
  openWhenUnlinked?: readonly string[];
}

export interface SearchRequest {
  /** The searched type, or several for a system search (`GET /fhir?_type=...`). */
  resourceType: string;
  types?: string[];
  filters: Filter[];
  sort: SortKey[];
  count: number;
  total: TotalMode;
  include: IncludeSpec[];
  summary?: SummaryMode;
  /** `_elements`: the top-level elements to return. */
  elements?: string[];
  /** Opaque keyset position from a previous page's `next` link. */
  cursor?: string;
  /** Parameters ignored under `Prefer: handling=lenient`, reported back in an outcome entry. */
  ignored: string[];
  restriction?: AccessRestriction;
  /** The query as the client sent it, minus paging, to rebuild self/next links. */
  query: [string, string][];
}

/** Every resource type a request reaches (chains, `_has`), for access checks on each. */
export function typesReached(request: SearchRequest): string[] {
  const types = new Set(request.types ?? [request.resourceType]);
  const visit = (filter: Filter): void => {
    if (filter.kind === 'chain') for (const t of filter.targets) (types.add(t.type), visit(t.inner));
    if (filter.kind === 'has') (types.add(filter.type), visit(filter.inner));
  };
  request.filters.forEach(visit);
  return [...types];
}

/** Every value filter, however deeply nested. */
export function valueFilters(filters: Filter[]): ValueFilter[] {
  return filters.flatMap((filter): ValueFilter[] => {
    switch (filter.kind) {
      case 'value':
        return [filter];
      case 'chain':
        return filter.targets.flatMap((t) => valueFilters([t.inner]));
      case 'has':
        return valueFilters([filter.inner]);
      default:
        return [];
    }
  });
}
