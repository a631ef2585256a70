import type { SearchParamDef } from './parameters.js';

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';
export const PREFIXES: Prefix[] = ['eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap'];

/** One `name:modifier=v1,v2` of a query: the values are OR-ed, separate filters are AND-ed. */
export interface SearchFilter {
  param: SearchParamDef;
  modifier?: string;
  values: string[];
}

export interface SortKey {
  param: SearchParamDef;
  descending: boolean;
}

export type TotalMode = 'none' | 'accurate' | 'estimate';

export interface SearchRequest {
  resourceType: string;
  filters: SearchFilter[];
  sort: SortKey[];
  count: number;
  total: TotalMode;
  /** Opaque keyset position from a previous page's `next` link. */
  cursor?: string;
  /** Parameters ignored under `Prefer: handling=lenient`, reported back in the self link. */
  ignored: string[];
  /**
   * Access control (not the client): only resources in the compartments of these patients, or
   * ('except') none in theirs.
   */
  compartment?: { params: readonly string[]; patients: readonly string[]; except?: boolean };
  /** The query as the client sent it, minus paging, to rebuild self/next links. */
  query: [string, string][];
}
