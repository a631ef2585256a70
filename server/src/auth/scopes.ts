// SMART on FHIR scopes (App Launch 2.x, with 1.x accepted): parse the `scope` string of a token
// request, answer "which grants allow permission X on type Y", and narrow a request to what a client
// is registered for. Policy (patient compartment, constraint checks) lives with the callers.

export type ScopeContext = 'patient' | 'user' | 'system';
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';
export interface ResourceScope {
  context: ScopeContext;
  resourceType: string; // a FHIR type name or '*'
  permissions: Set<Permission>;
  constraints: [string, string][]; // decoded `?name=value` pairs; callers must check them or refuse
  text: string; // as requested
  version: 1 | 2;
}
export interface ParsedScopes {
  resources: ResourceScope[];
  other: Set<string>;
  ignored: string[]; // resource scopes we could not parse: they grant nothing
  unknown: string[];
}

/** Letters in the only order v2 allows them. */
const LETTERS: readonly Permission[] = ['c', 'r', 'u', 'd', 's'];
const V1: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': [...LETTERS] };
const V2_PERMS = /^c?r?u?d?s?$/;
const TYPE = /^(?:[A-Z][A-Za-z]+|\*)$/;
const RESOURCE_SCOPE = /^(patient|user|system)\/([^.?]*)\.([^?]*)(?:\?(.*))?$/;
const OTHER = new Set([
  'openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access',
]);

/** Parse one `context/Type.perms[?q]` scope; undefined when malformed (the caller reports it). */
export function parseResourceScope(text: string): ResourceScope | undefined {
  const m = RESOURCE_SCOPE.exec(text);
  if (!m) return undefined;
  const [, context, resourceType, perms, query] = m;
  if (!TYPE.test(resourceType)) return undefined;
  let letters: Permission[];
  let version: 1 | 2;
  if (Object.hasOwn(V1, perms)) {
    letters = V1[perms];
    version = 1;
  } else if (perms !== '' && V2_PERMS.test(perms)) {
    letters = [...perms] as Permission[];
    version = 2;
  } else {
    return undefined; // empty, out of order or unknown letters: grant nothing rather than guess
  }
  const constraints = query === undefined ? [] : parseQuery(query);
  if (!constraints) return undefined;
  return { context: context as ScopeContext, resourceType, permissions: new Set(letters), constraints, text, version };
}

// `a=b&c=d`, URL-decoded. A present-but-broken query makes the whole scope malformed: dropping the
// constraint would widen the grant.
function parseQuery(query: string): [string, string][] | undefined {
  const pairs: [string, string][] = [];
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    try {
      pairs.push([decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1))]);
    } catch {
      return undefined; // bad %-escape
    }
  }
  return pairs;
}

export function parseScopes(scope: string | undefined): ParsedScopes {
  const parsed: ParsedScopes = { resources: [], other: new Set(), ignored: [], unknown: [] };
  const seen = new Set<string>();
  for (const token of (scope ?? '').split(/\s+/)) {
    if (token === '' || seen.has(token)) continue;
    seen.add(token);
    if (/^(patient|user|system)\//.test(token)) {
      const rs = parseResourceScope(token);
      if (rs) parsed.resources.push(rs);
      else parsed.ignored.push(token);
    } else if (OTHER.has(token)) parsed.other.add(token);
    else parsed.unknown.push(token);
  }
  return parsed;
}

// Keep `:/|` readable (as in the spec's examples); escape what would break the grammar.
const encode = (s: string) => encodeURIComponent(s).replace(/%(3A|2F|7C)/gi, (e) => decodeURIComponent(e));

/** Canonical v2 text for a scope, built from its fields. */
export function renderScope(s: ResourceScope): string {
  const letters = LETTERS.filter((l) => s.permissions.has(l)).join('');
  const query = s.constraints.map(([n, v]) => `${encode(n)}=${encode(v)}`).join('&');
  return `${s.context}/${s.resourceType}.${letters}${query ? `?${query}` : ''}`;
}

/** Resource scopes first, then the others, each in the order given. A scope whose `text` still means
 *  what its fields say is echoed as requested (v1 clients get v1 back); otherwise it is rendered v2. */
export function formatScopes(parsed: ParsedScopes): string {
  const resources = parsed.resources.map((s) => {
    const asText = parseResourceScope(s.text);
    return asText && renderScope(asText) === renderScope(s) ? s.text : renderScope(s);
  });
  return [...resources, ...parsed.other].join(' ');
}

/** Which interaction needs which permission letter. */
export type Interaction =
  | 'read' | 'vread' | 'history-instance' | 'search-type' | 'history-type' | 'create' | 'update' | 'patch'
  | 'delete' | 'search-system' | 'history-system' | 'operation';

const NEEDS: Record<Interaction, Permission> = {
  read: 'r', vread: 'r', 'history-instance': 'r', operation: 'r',
  'search-type': 's', 'history-type': 's', 'search-system': 's', 'history-system': 's',
  create: 'c', update: 'u', patch: 'u', delete: 'd',
};
/** `operation` maps to 'r' here; callers decide finer rules per operation. */
export function permissionFor(interaction: Interaction): Permission {
  return NEEDS[interaction];
}

const covers = (granted: string, wanted: string) => granted === '*' || granted === wanted;

/** The grants that allow `permission` on `resourceType` (any context, or only the given contexts).
 *  Empty = not allowed. Grants with constraints are included: the caller must enforce them. */
export function grantsFor(
  scopes: ParsedScopes, resourceType: string, permission: Permission, contexts?: ScopeContext[],
): ResourceScope[] {
  return scopes.resources.filter(
    (s) => covers(s.resourceType, resourceType) && s.permissions.has(permission) && (!contexts || contexts.includes(s.context)),
  );
}

const hasAll = (have: [string, string][], need: [string, string][]) =>
  need.every(([n, v]) => have.some(([hn, hv]) => hn === n && hv === v));

/**
 * Narrow `requested` to what `allowed` permits. Decision: rather than drop a requested scope unless
 * one allowed scope covers all its letters, we keep the INTERSECTION of its letters with the union
 * of the letters of every allowed scope that covers it (same context, type or '*', and whose
 * constraints the requested scope carries too - extra requested constraints only narrow further);
 * it is dropped when that is empty. A narrowed scope is re-rendered in v2 form (`system/*.cruds`
 * against `system/*.rs` gives `system/*.rs`). A requested '*' is not expanded into the specific types
 * allowed. `other` scopes survive only if allowed; ignored/unknown carry over for reporting.
 */
export function narrowScopes(requested: ParsedScopes, allowed: ParsedScopes): ParsedScopes {
  const resources: ResourceScope[] = [];
  for (const req of requested.resources) {
    const permitted = new Set<Permission>();
    for (const a of allowed.resources) {
      if (a.context === req.context && covers(a.resourceType, req.resourceType) && hasAll(req.constraints, a.constraints)) {
        a.permissions.forEach((p) => permitted.add(p));
      }
    }
    const kept = LETTERS.filter((l) => req.permissions.has(l) && permitted.has(l));
    if (kept.length === 0) continue;
    if (kept.length === req.permissions.size) {
      resources.push(req);
      continue;
    }
    const narrowed: ResourceScope = { ...req, permissions: new Set(kept), constraints: [...req.constraints], version: 2 };
    resources.push({ ...narrowed, text: renderScope(narrowed) });
  }
  return {
    resources,
    other: new Set([...requested.other].filter((o) => allowed.other.has(o))),
    ignored: [...requested.ignored],
    unknown: [...requested.unknown],
  };
}
