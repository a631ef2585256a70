// `_include` and `_revinclude`, run after the page of matches is known: each round is one
// indexed statement per include spec, over the reference index. `:iterate` specs run again on
// what the previous round added, until nothing new arrives or the bound is reached. Included
// resources pass the same access restriction as matches (SQL), and types the caller may not
// read are never queried.
import type { Resource } from '@medplum/fhirtypes';
import type { AccessRestriction, IncludeSpec } from './model.js';
import type { SearchParameterRegistry } from './parameters.js';
import { SqlParams } from './values.js';
import { restrictionCondition } from './where.js';

export type RowQuery = (sql: string, params: unknown[]) => Promise<{ content: string }[]>;

export interface IncludeResult {
  resources: Resource[];
  /** The bound was reached: some resources that would be included are missing. */
  truncated: boolean;
}

/** Rounds of `:iterate` after the first; a reference graph deeper than this is cut (and reported). */
const MAX_ROUNDS = 8;

export async function runIncludes(
  query: RowQuery,
  specs: IncludeSpec[],
  matches: Resource[],
  registry: SearchParameterRegistry,
  options: { restriction?: AccessRestriction; canRead: (type: string) => boolean; max: number },
): Promise<IncludeResult> {
  const seen = new Set(matches.map(key));
  const included: Resource[] = [];
  let frontier = matches;
  let truncated = false;
  for (let round = 0; frontier.length && !truncated; round++) {
    const active = round === 0 ? specs : specs.filter((s) => s.iterate);
    if (active.length === 0) break;
    if (round > MAX_ROUNDS) {
      truncated = true;
      break;
    }
    const added: Resource[] = [];
    for (const spec of active) {
      const remaining = options.max - included.length - added.length;
      const statement = spec.reverse ? reverseQuery(spec, frontier, options) : forwardQuery(spec, frontier, registry, options);
      if (!statement) continue;
      // The limit is a parameter, so that the text stays one shape (a prepared statement, repository.ts).
      const rows = await query(`${statement.sql} limit $${statement.params.length + 1}`, [...statement.params, remaining + 1]);
      for (const row of rows) {
        const resource = JSON.parse(row.content) as Resource;
        if (seen.has(key(resource))) continue;
        if (included.length + added.length >= options.max) {
          truncated = true;
          break;
        }
        seen.add(key(resource));
        added.push(resource);
      }
      if (truncated) break;
    }
    included.push(...added);
    frontier = added;
  }
  return { resources: included, truncated };
}

function key(resource: Resource): string {
  return `${resource.resourceType}/${resource.id}`;
}

type Options = { restriction?: AccessRestriction; canRead: (type: string) => boolean };

/** Resources that `spec.source` resources of the frontier point at through the spec's parameters. */
function forwardQuery(spec: IncludeSpec, frontier: Resource[], registry: SearchParameterRegistry, options: Options) {
  const ids = frontier.filter((r) => r.resourceType === spec.source).map((r) => r.id!);
  if (ids.length === 0) return undefined;
  const declared = spec.target ? [spec.target] : [...new Set(spec.params.flatMap((p) => registry.get(spec.source, p)?.targets ?? []))];
  const types = (declared.length ? declared : registry.resourceTypes).filter(options.canRead);
  if (types.length === 0) return undefined;
  const params = new SqlParams();
  const restricted = options.restriction ? restrictionCondition(types, options.restriction, params) : undefined;
  const sql = `select distinct on (r.seq) r.content::text as content from idx_reference i join resource r on r.type = i.target_type and r.id = i.target_id
    where i.res_type = ${params.add(spec.source)} and i.res_id = any(${params.add(ids)}::text[]) and i.param = any(${params.add(spec.params)}::text[])
      and i.target_type = any(${params.add(types)}::text[]) and not r.deleted${restricted ? ` and ${restricted}` : ''}
    order by r.seq`;
  return { sql, params: params.values };
}

/** `spec.source` resources that point at a frontier resource through the spec's parameters. */
function reverseQuery(spec: IncludeSpec, frontier: Resource[], options: Options) {
  if (!options.canRead(spec.source)) return undefined;
  const targets = spec.target ? frontier.filter((r) => r.resourceType === spec.target) : frontier;
  if (targets.length === 0) return undefined;
  const params = new SqlParams();
  const restricted = options.restriction ? restrictionCondition([spec.source], options.restriction, params) : undefined;
  const sql = `select distinct on (r.seq) r.content::text as content from idx_reference i
      join unnest(${params.add(targets.map((t) => t.resourceType))}::text[], ${params.add(targets.map((t) => t.id))}::text[]) as t(type, id)
        on i.target_type = t.type and i.target_id = t.id
      join resource r on r.type = i.res_type and r.id = i.res_id
    where i.res_type = ${params.add(spec.source)} and i.param = any(${params.add(spec.params)}::text[]) and not r.deleted${restricted ? ` and ${restricted}` : ''}
    order by r.seq`;
  return { sql, params: params.values };
}
