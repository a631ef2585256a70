// SMART scope parsing, permission lookup and narrowing (server/src/auth/scopes.ts).
import { describe, expect, it } from '@jest/globals';
import {
  formatScopes,
  grantsFor,
  narrowScopes,
  parseScopes,
  permissionFor,
  renderScope,
  type Interaction,
  type Permission,
} from '../../server/src/auth/scopes.js';

const letters = (set: Set<Permission>) => ['c', 'r', 'u', 'd', 's'].filter((l) => set.has(l as Permission)).join('');
const LAB = 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory';

describe('parseScopes', () => {
  it('returns empty results for undefined, empty and blank strings', () => {
    for (const input of [undefined, '', '   \t\n ']) {
      const p = parseScopes(input);
      expect(p.resources).toEqual([]);
      expect([...p.other]).toEqual([]);
      expect(p.ignored).toEqual([]);
      expect(p.unknown).toEqual([]);
    }
  });

  it('parses a v2 scope into its parts', () => {
    const [s] = parseScopes('patient/Observation.rs').resources;
    expect(s.context).toBe('patient');
    expect(s.resourceType).toBe('Observation');
    expect(letters(s.permissions)).toBe('rs');
    expect(s.constraints).toEqual([]);
    expect(s.text).toBe('patient/Observation.rs');
    expect(s.version).toBe(2);
  });

  it('maps v1 .read to r+s, .write to c+u+d and .* to cruds', () => {
    const p = parseScopes('user/Observation.read user/Patient.write system/*.*');
    expect(p.resources.map((s) => [s.text, letters(s.permissions), s.version])).toEqual([
      ['user/Observation.read', 'rs', 1],
      ['user/Patient.write', 'cud', 1],
      ['system/*.*', 'cruds', 1],
    ]);
  });

  it('accepts every in-order subsequence of cruds', () => {
    for (const perms of ['c', 'r', 'u', 'd', 's', 'cr', 'cud', 'rs', 'cruds', 'us', 'cd']) {
      const p = parseScopes(`user/Patient.${perms}`);
      expect(p.ignored).toEqual([]);
      expect(letters(p.resources[0].permissions)).toBe(perms);
    }
  });

  it('ignores out-of-order, repeated and unknown permission letters', () => {
    const bad = ['patient/Observation.dus', 'patient/Observation.x', 'patient/Observation.rr', 'patient/Observation.sr',
      'patient/Observation.Read', 'patient/Observation.readwrite'];
    const p = parseScopes(bad.join(' '));
    expect(p.resources).toEqual([]);
    expect(p.ignored).toEqual(bad);
    expect(p.unknown).toEqual([]);
  });

  it('ignores a lower-case or otherwise invalid resource type', () => {
    const bad = ['patient/observation.r', 'patient/Obs-ervation.r', 'patient/O.r', 'patient/.r', 'patient/**.r'];
    const p = parseScopes(bad.join(' '));
    expect(p.resources).toEqual([]);
    expect(p.ignored).toEqual(bad);
  });

  it('ignores a scope with no permissions or no dot', () => {
    const p = parseScopes('patient/Observation. patient/Observation patient/');
    expect(p.resources).toEqual([]);
    expect(p.ignored).toEqual(['patient/Observation.', 'patient/Observation', 'patient/']);
  });

  it('treats unknown contexts as unknown scopes, not resource scopes', () => {
    const p = parseScopes('admin/Patient.r Patient.r');
    expect(p.resources).toEqual([]);
    expect(p.ignored).toEqual([]);
    expect(p.unknown).toEqual(['admin/Patient.r', 'Patient.r']);
  });

  it('keeps the known non-resource scopes in `other` and the rest in `unknown`', () => {
    const p = parseScopes(
      'openid fhirUser profile launch launch/patient launch/encounter offline_access online_access email launch/practitioner',
    );
    expect([...p.other]).toEqual([
      'openid', 'fhirUser', 'profile', 'launch', 'launch/patient', 'launch/encounter', 'offline_access', 'online_access',
    ]);
    expect(p.unknown).toEqual(['email', 'launch/practitioner']);
  });

  it('is case-sensitive for the other scopes', () => {
    expect(parseScopes('OpenID fhiruser').unknown).toEqual(['OpenID', 'fhiruser']);
  });

  it('dedupes repeated scopes of every kind, keeping the first position', () => {
    const p = parseScopes('openid patient/*.rs openid patient/*.rs foo foo patient/x.r patient/x.r user/Patient.r');
    expect(p.resources.map((s) => s.text)).toEqual(['patient/*.rs', 'user/Patient.r']);
    expect([...p.other]).toEqual(['openid']);
    expect(p.unknown).toEqual(['foo']);
    expect(p.ignored).toEqual(['patient/x.r']);
  });

  it('parses a mixed v1/v2 string', () => {
    const p = parseScopes('launch/patient patient/Observation.read patient/Condition.rs user/*.cud openid');
    expect(p.resources.map((s) => [s.resourceType, letters(s.permissions), s.version])).toEqual([
      ['Observation', 'rs', 1],
      ['Condition', 'rs', 2],
      ['*', 'cud', 2],
    ]);
    expect([...p.other]).toEqual(['launch/patient', 'openid']);
  });

  it('parses a constraint query, raw or URL-encoded', () => {
    const raw = parseScopes(`patient/Observation.rs?category=${LAB}`).resources[0];
    expect(raw.constraints).toEqual([['category', LAB]]);
    expect(raw.text).toBe(`patient/Observation.rs?category=${LAB}`);
    const enc = parseScopes(
      'patient/Observation.rs?category=http%3A%2F%2Fterminology.hl7.org%2FCodeSystem%2Fobservation-category%7Claboratory',
    ).resources[0];
    expect(enc.constraints).toEqual([['category', LAB]]);
    expect(letters(enc.permissions)).toBe('rs');
  });

  it('parses several constraints in order, including an encoded & and =', () => {
    const [s] = parseScopes('user/Observation.s?code=a%26b&status=final&x=1%3D1').resources;
    expect(s.constraints).toEqual([['code', 'a&b'], ['status', 'final'], ['x', '1=1']]);
  });

  it('ignores a scope whose query is broken rather than dropping the constraint', () => {
    const bad = ['patient/Observation.rs?', 'patient/Observation.rs?category', 'patient/Observation.rs?=x',
      'patient/Observation.rs?a=1&&b=2', 'patient/Observation.rs?a=%ZZ'];
    const p = parseScopes(bad.join(' '));
    expect(p.resources).toEqual([]);
    expect(p.ignored).toEqual(bad);
  });

  it('accepts constraints on v1 scopes too', () => {
    const [s] = parseScopes('user/Observation.read?status=final').resources;
    expect(s.version).toBe(1);
    expect(s.constraints).toEqual([['status', 'final']]);
  });
});

describe('formatScopes', () => {
  it('echoes scopes as requested, resource scopes first, and leaves out ignored/unknown', () => {
    const input = `openid patient/Observation.read bogus patient/observation.r patient/Observation.rs?category=${LAB} launch`;
    expect(formatScopes(parseScopes(input))).toBe(
      `patient/Observation.read patient/Observation.rs?category=${LAB} openid launch`,
    );
  });

  it('returns an empty string for nothing', () => {
    expect(formatScopes(parseScopes(undefined))).toBe('');
  });

  it('round-trips through parseScopes', () => {
    const input = 'patient/*.rs user/Patient.write system/*.* fhirUser offline_access';
    const once = formatScopes(parseScopes(input));
    expect(formatScopes(parseScopes(once))).toBe(once);
    expect(once).toBe(input);
  });

  it('renders in v2 form when the fields no longer match the text', () => {
    const p = parseScopes('user/Observation.read');
    p.resources[0].permissions.delete('s');
    expect(formatScopes(p)).toBe('user/Observation.r');
  });

  it('renderScope escapes only what would break the grammar', () => {
    const [s] = parseScopes('user/Observation.rs?code=a%26b%20c&category=http%3A%2F%2Fx.org%7Clab').resources;
    expect(renderScope(s)).toBe('user/Observation.rs?code=a%26b%20c&category=http://x.org|lab');
    expect(parseScopes(renderScope(s)).resources[0].constraints).toEqual(s.constraints);
  });
});

describe('permissionFor', () => {
  it('maps every interaction to its letter', () => {
    const expected: Record<Interaction, Permission> = {
      read: 'r', vread: 'r', 'history-instance': 'r', operation: 'r',
      'search-type': 's', 'history-type': 's', 'search-system': 's', 'history-system': 's',
      create: 'c', update: 'u', patch: 'u', delete: 'd',
    };
    for (const [interaction, perm] of Object.entries(expected)) {
      expect(permissionFor(interaction as Interaction)).toBe(perm);
    }
  });
});

describe('grantsFor', () => {
  const scopes = parseScopes(
    `patient/*.rs user/Observation.read user/Patient.cu system/*.* patient/Observation.rs?category=${LAB}`,
  );
  const texts = (type: string, p: Permission, ctx?: Parameters<typeof grantsFor>[3]) =>
    grantsFor(scopes, type, p, ctx).map((s) => s.text);

  it('lets a wildcard type cover any type', () => {
    expect(texts('Encounter', 'r', ['patient'])).toEqual(['patient/*.rs']);
    expect(texts('MedicationRequest', 's', ['patient'])).toEqual(['patient/*.rs']);
    expect(texts('Encounter', 'u', ['patient'])).toEqual([]);
  });

  it('returns every matching grant, constrained ones included, in the order given', () => {
    expect(texts('Observation', 'r')).toEqual([
      'patient/*.rs', 'user/Observation.read', 'system/*.*', `patient/Observation.rs?category=${LAB}`,
    ]);
    const constrained = grantsFor(scopes, 'Observation', 's', ['patient']).filter((g) => g.constraints.length);
    expect(constrained[0].constraints).toEqual([['category', LAB]]);
  });

  it('filters by context', () => {
    expect(texts('Patient', 'c', ['user'])).toEqual(['user/Patient.cu']);
    expect(texts('Patient', 'c', ['patient'])).toEqual([]);
    expect(texts('Patient', 'd')).toEqual(['system/*.*']);
    expect(texts('Patient', 'd', [])).toEqual([]);
  });

  it('does not let a specific type cover another, or match case-insensitively', () => {
    expect(texts('Condition', 'r', ['user'])).toEqual([]);
    expect(texts('observation', 'r', ['user'])).toEqual([]);
  });

  it('grants nothing for ignored scopes', () => {
    const p = parseScopes('patient/Observation.dus patient/observation.r');
    expect(grantsFor(p, 'Observation', 'd')).toEqual([]);
    expect(grantsFor(p, 'Observation', 'r')).toEqual([]);
  });

  it('finds nothing in an empty scope set', () => {
    expect(grantsFor(parseScopes(undefined), 'Patient', 'r')).toEqual([]);
  });
});

describe('narrowScopes', () => {
  const narrow = (req: string, allowed: string) => formatScopes(narrowScopes(parseScopes(req), parseScopes(allowed)));

  it('intersects letters and renders the narrowed scope in v2 form', () => {
    expect(narrow('system/*.cruds', 'system/*.rs')).toBe('system/*.rs');
    expect(narrow('system/*.*', 'system/*.rs')).toBe('system/*.rs');
    expect(narrow('user/Patient.write', 'user/Patient.cru')).toBe('user/Patient.cu');
  });

  it('drops a d the client was not allowed and keeps the rest', () => {
    expect(narrow('patient/Observation.rds patient/Condition.d', 'patient/*.rs')).toBe('patient/Observation.rs');
  });

  it('keeps a fully covered scope exactly as requested, v1 included', () => {
    const req = parseScopes('user/Observation.read');
    const out = narrowScopes(req, parseScopes('user/*.cruds'));
    expect(out.resources[0]).toBe(req.resources[0]);
    expect(formatScopes(out)).toBe('user/Observation.read');
  });

  it('requires the same context', () => {
    expect(narrow('patient/Observation.rs', 'user/*.cruds system/*.cruds')).toBe('');
  });

  it('lets an allowed wildcard cover a type but not a specific type cover a requested wildcard', () => {
    expect(narrow('user/Observation.r', 'user/*.rs')).toBe('user/Observation.r');
    expect(narrow('user/*.rs', 'user/Observation.rs')).toBe('');
  });

  it('unions the letters of several covering allowed scopes', () => {
    expect(narrow('user/Observation.cruds', 'user/Observation.rs user/*.c patient/*.d')).toBe('user/Observation.crs');
  });

  it('keeps requested constraints', () => {
    const out = narrowScopes(parseScopes(`patient/Observation.cruds?category=${LAB}`), parseScopes('patient/*.rs'));
    expect(out.resources[0].constraints).toEqual([['category', LAB]]);
    expect(formatScopes(out)).toBe(`patient/Observation.rs?category=${LAB}`);
  });

  it('requires the allowed constraints to be carried by the requested scope', () => {
    const allowed = `patient/Observation.rs?category=${LAB}`;
    expect(narrow('patient/Observation.rs', allowed)).toBe('');
    expect(narrow('patient/Observation.rs?category=other', allowed)).toBe('');
    expect(narrow(`patient/Observation.r?category=${LAB}`, allowed)).toBe(`patient/Observation.r?category=${LAB}`);
    // Extra requested constraints only narrow further.
    expect(narrow(`patient/Observation.rs?status=final&category=${LAB}`, allowed)).toBe(
      `patient/Observation.rs?status=final&category=${LAB}`,
    );
  });

  it('keeps other scopes only if allowed, and carries ignored/unknown for reporting', () => {
    const out = narrowScopes(
      parseScopes('openid fhirUser offline_access launch/patient bogus patient/x.r'),
      parseScopes('openid launch/patient'),
    );
    expect([...out.other]).toEqual(['openid', 'launch/patient']);
    expect(out.unknown).toEqual(['bogus']);
    expect(out.ignored).toEqual(['patient/x.r']);
    expect(formatScopes(out)).toBe('openid launch/patient');
  });

  it('yields nothing when nothing is allowed', () => {
    expect(narrow('patient/*.rs openid', '')).toBe('');
  });

  it('does not mutate its inputs', () => {
    const req = parseScopes('system/*.cruds');
    narrowScopes(req, parseScopes('system/*.rs'));
    expect(letters(req.resources[0].permissions)).toBe('cruds');
    expect(req.resources[0].text).toBe('system/*.cruds');
  });
});
