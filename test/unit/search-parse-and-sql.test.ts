// Search-parameter parsing and SQL generation, without a database.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { loadR4Definitions } from '../../server/src/fhir/definitions.js';
import { dateRange } from '../../server/src/fhir/index/date-range.js';
import { expressionForType, SearchParameterRegistry } from '../../server/src/fhir/search/parameters.js';
import { parseSearchRequest, splitPipe, splitValues } from '../../server/src/fhir/search/parse.js';
import { compileSearch } from '../../server/src/fhir/search/sql.js';
import { Invalid } from '../../server/src/fhir/errors.js';

const LIMITS = { defaultCount: 20, maxCount: 100, defaultTotal: 'none' as const };
let registry: SearchParameterRegistry;

beforeAll(() => {
  const defs = loadR4Definitions();
  registry = new SearchParameterRegistry(defs.resourceTypes, defs.searchParameters);
});

const parse = (type: string, qs: string, lenient = false) => parseSearchRequest(type, [...new URLSearchParams(qs).entries()], registry, LIMITS, lenient);

describe('date ranges', () => {
  it.each([
    ['2020', '2020-01-01T00:00:00.000Z', '2020-12-31T23:59:59.999Z'],
    ['2020-02', '2020-02-01T00:00:00.000Z', '2020-02-29T23:59:59.999Z'],
    ['2021-02-28', '2021-02-28T00:00:00.000Z', '2021-02-28T23:59:59.999Z'],
    ['2020-03-01T10:00', '2020-03-01T10:00:00.000Z', '2020-03-01T10:00:59.999Z'],
    ['2020-03-01T10:00:05+08:00', '2020-03-01T02:00:05.000Z', '2020-03-01T02:00:05.999Z'],
    ['2020-03-01T10:00:05.123Z', '2020-03-01T10:00:05.123Z', '2020-03-01T10:00:05.123Z'],
  ])('%s covers [%s, %s]', (text, lo, hi) => {
    expect(dateRange(text)).toEqual({ lo, hi });
  });
  it.each(['2021-02-29', '2020-13', '20', 'yesterday', '2020-01-01T25:00'])('%s is not a date', (text) => {
    expect(dateRange(text)).toBeUndefined();
  });
});

describe('value splitting', () => {
  it('splits OR values on unescaped commas only', () => {
    expect(splitValues('a,b')).toEqual(['a', 'b']);
    expect(splitValues('a\\,b,c')).toEqual(['a,b', 'c']);
  });
  it('splits tokens on unescaped pipes', () => {
    expect(splitPipe('http://loinc.org|1558-6')).toEqual(['http://loinc.org', '1558-6']);
    expect(splitPipe('|x')).toEqual(['', 'x']);
    expect(splitPipe('a\\|b|c')).toEqual(['a|b', 'c']);
  });
});

describe('search parameters per type', () => {
  it('keeps only the branches of a shared expression that apply to the type', () => {
    const shared = 'AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | Observation.subject.where(resolve() is Patient)';
    expect(expressionForType(shared, 'Observation')).toBe('Observation.subject.where(resolve() is Patient)');
    expect(expressionForType(shared, 'Patient')).toBeUndefined();
    expect(registry.get('Patient', 'birthdate')?.expression).toBe('Patient.birthDate');
    expect(registry.get('Observation', 'patient')?.type).toBe('reference');
    expect(registry.get('Patient', '_lastUpdated')?.type).toBe('date');
  });
});

describe('parseSearchRequest', () => {
  it('reads filters, modifiers, OR values and result parameters', () => {
    const request = parse('Patient', 'name:exact=Li,Wang&birthdate=ge2000&_count=5&_sort=-birthdate,name&_total=accurate');
    expect(request.filters.map((f) => (f.kind === 'value' ? [f.param.code, f.modifier, f.values] : f.kind))).toEqual([
      ['name', 'exact', ['Li', 'Wang']],
      ['birthdate', undefined, ['ge2000']],
    ]);
    expect(request.count).toBe(5);
    expect(request.total).toBe('accurate');
    expect(request.sort.map((s) => [s.param.code, s.descending])).toEqual([
      ['birthdate', true],
      ['name', false],
    ]);
  });
  it('caps _count at the configured maximum', () => {
    expect(parse('Patient', '_count=100000').count).toBe(100);
  });
  it.each([
    ['unknown parameter', 'Patient', 'colour=red', 'colour'],
    ['unsupported modifier', 'Patient', 'name:below=x', 'name:below'],
    ['chain through a non-reference', 'Observation', 'code.name=x', 'code.name'],
    ['chain to a parameter no target has', 'Observation', 'subject:Patient.colour=x', 'subject:Patient.colour'],
    ['composite with the wrong number of parts', 'Observation', 'code-value-quantity=x', 'code-value-quantity'],
    ['_has with a non-reference', 'Patient', '_has:Observation:code:status=final', '_has:Observation:code:status'],
    ['_include of a non-reference', 'Patient', '_include=Patient:name', '_include'],
    ['special parameter', 'Patient', '_text=x', '_text'],
    ['contained search', 'Patient', '_contained=true', '_contained'],
    ['bad :missing value', 'Patient', 'gender:missing=maybe', 'gender:missing'],
    ['empty value', 'Patient', 'gender=', 'gender'],
    ['bad _count', 'Patient', '_count=-1', '_count'],
    ['bad _sort', 'Patient', '_sort=colour', '_sort'],
  ])('rejects %s with a 400 naming the parameter', (_label, type, qs, name) => {
    let error: unknown;
    try {
      parse(type, qs);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(Invalid);
    expect((error as Invalid).status).toBe(400);
    expect((error as Invalid).message).toContain(name.split(':')[0]);
  });
  it('under handling=lenient ignores unknown parameters and remembers them', () => {
    const request = parse('Patient', 'colour=red&gender=male', true);
    expect(request.ignored).toEqual(['colour']);
    expect(request.filters.map((f) => (f.kind === 'value' ? f.param.code : f.kind))).toEqual(['gender']);
  });
  it('a reference parameter accepts a resource type as modifier', () => {
    const [filter] = parse('Observation', 'subject:Patient=1').filters;
    expect(filter.kind === 'value' && filter.modifier).toBe('Patient');
    expect(() => parse('Observation', 'subject:Banana=1')).toThrow(Invalid);
  });
});

describe('compileSearch', () => {
  it('compiles to one statement with bound values and no user text in the SQL', () => {
    const { sql, params } = compileSearch(parse('Patient', "name=O'Brien%&gender=female"));
    expect(sql).not.toContain("O'Brien");
    // Normalised; a prefix match as a range from the prefix to the text just past it (prefixEnd).
    expect(params).toEqual(expect.arrayContaining(["o'brien%", "o'brien&"]));
    expect(sql).toMatch(/i\.norm ~>=~ \$\d+ and i\.norm ~<~ \$\d+/);
    expect(sql).toMatch(/from idx_string i/);
    expect(sql).toMatch(/from idx_token i/);
    expect(sql).toMatch(/limit \$\d+\) p join resource r/); // the page is chosen from keys, then its content read
  });
  it('binds exactly the parameters the SQL uses (PostgreSQL rejects untyped unused ones)', () => {
    for (const qs of ['general-practitioner:Practitioner.name=li', 'general-practitioner.organization.name=x', '_has:Observation:patient:code=1', '_has:Observation:subject:_has:AuditEvent:entity:agent=Device/1', 'identifier:of-type=http://x|MR|1', 'general-practitioner:identifier=urn:x|1', 'name:text=pet chal', 'birthdate=ge2000', 'birthdate=2000', 'birthdate=ap2000', 'general-practitioner=Practitioner/1', '_sort=-birthdate&_cursor=' + Buffer.from(JSON.stringify({ keys: ['2000-01-01 00:00:00+00'], seq: '5', sort: '-birthdate' })).toString('base64url')]) {
      const { sql, params } = compileSearch(parse('Patient', qs));
      const used = new Set([...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
      expect({ qs, used: used.size }).toEqual({ qs, used: params.length });
    }
  });
  it("reads only the pinned patient's token rows where one reference filter names one Patient (migration 011)", () => {
    const pinned = (type: string, qs: string) => {
      const { sql, params } = compileSearch(parse(type, qs));
      const match = /i\.patient = \$(\d+)/.exec(sql);
      return match ? params[Number(match[1]) - 1] : undefined;
    };
    for (const qs of ['code=718-7&subject=Patient/p1', 'subject:Patient=p1&code=718-7', 'patient=p1&code:not=718-7', 'patient=Patient/p1&category=laboratory&code=718-7']) {
      expect({ qs, pinned: pinned('Observation', qs) }).toEqual({ qs, pinned: 'p1' });
    }
    expect(pinned('Appointment', 'status=booked&patient=Patient/p2')).toBe('p2');
    // No pin: a Group subject, two patients, a bare id that could name any type, a chain, several types.
    for (const qs of ['code=718-7&subject=Group/g1', 'code=718-7&subject=Patient/p1,Patient/p2', 'code=718-7&subject=p1', 'code=718-7&subject:Patient.name=li']) {
      expect({ qs, pinned: pinned('Observation', qs) }).toEqual({ qs, pinned: undefined });
    }
    // A golden record expanded to its source Patients (before the SQL is built) names several: no pin.
    const golden = parse('Observation', 'code=718-7&subject=Patient/g1');
    const subject = golden.filters.find((f) => f.kind === 'value' && f.param.code === 'subject');
    if (subject?.kind === 'value') subject.values = ['Patient/g1', 'Patient/source-1', 'Patient/source-2'];
    expect(compileSearch(golden).sql).not.toContain('i.patient');
    // Where the patient parameter is not plainly the subject's Patient (Task: Task.for), subject does not pin.
    expect(pinned('Task', 'status=ready&subject=Patient/p1')).toBeUndefined();
    const multi = compileSearch(parseSearchRequest('Observation', [['code', '718-7'], ['subject', 'Patient/p1']], registry, LIMITS, false, ['Observation', 'Condition']));
    expect(multi.sql).not.toContain('i.patient');
  });
  it("leaves out the pinning reference filter where a token filter reads the pinned patient's rows, which prove it", () => {
    const references = (type: string, qs: string) => (compileSearch(parse(type, qs)).sql.match(/from idx_reference i/g) ?? []).length;
    // A token row keyed by p1 exists only for resources whose subject (patient) is p1.
    for (const qs of ['code=718-7&subject=Patient/p1', 'patient=p1&code=718-7', 'subject:Patient=p1&category=laboratory&code=718-7']) {
      expect({ qs, references: references('Observation', qs) }).toEqual({ qs, references: 0 });
    }
    expect(references('Appointment', 'status=booked&patient=Patient/p2')).toBe(0);
    // Kept: nothing reads the rows as existing (:not, :missing), no token filter, or no pin.
    for (const qs of ['code:not=718-7&subject=Patient/p1', 'code:missing=false&subject=Patient/p1', 'date=2020&subject=Patient/p1', 'code=718-7&subject=Group/g1']) {
      expect({ qs, references: references('Observation', qs) }).toEqual({ qs, references: 1 });
    }
    // Task's patient is spelt Task.for.where(...), not as its subject's Patient: the registry
    // cannot tell that a key from `subject` would agree with it, so the filter stays.
    expect(registry.keyedTokensImply('Task', 'patient')).toBe(false);
    expect(references('Task', 'status=ready&patient=Patient/p1')).toBe(1);
    expect(registry.keyedTokensImply('Observation', 'patient')).toBe(true);
    expect(registry.keyedTokensImply('Appointment', 'patient')).toBe(true);
  });
  it('binds exactly the parameters of composite and chained Observation searches', () => {
    for (const qs of ['code-value-quantity=http://loinc.org|8480-6$gt140', 'component-code-value-quantity=8480-6$lt90|http://unitsofmeasure.org|mm[Hg]', 'subject:Patient.birthdate=ge1950&_has:DiagnosticReport:result:status=final']) {
      const { sql, params } = compileSearch(parse('Observation', qs));
      const used = new Set([...sql.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
      expect({ qs, used: used.size }).toEqual({ qs, used: params.length });
    }
  });
  it('applies the R4 date prefix semantics to the stored range', () => {
    const ge = compileSearch(parse('Patient', 'birthdate=ge2000'));
    expect(ge.sql).toMatch(/i\.hi > \$\d+::timestamptz or \(i\.lo >= \$\d+::timestamptz and i\.hi <= \$\d+::timestamptz\)/);
    expect(ge.params).toContain('2000-01-01T00:00:00.000Z');
    const eq = compileSearch(parse('Patient', 'birthdate=2000'));
    expect(eq.sql).toMatch(/i\.lo >= \$\d+::timestamptz and i\.hi <= \$\d+::timestamptz/);
  });
  it('uses :not as NOT EXISTS and :missing as (NOT) EXISTS', () => {
    expect(compileSearch(parse('Patient', 'gender:not=male')).sql).toContain('not exists (select 1 from idx_token');
    expect(compileSearch(parse('Patient', 'gender:missing=true')).sql).toContain('not exists (select 1 from idx_token');
    expect(compileSearch(parse('Patient', 'gender:missing=false')).sql).not.toContain('not exists');
  });
  it('pages by keyset: a cursor becomes a strict "after" condition, never an OFFSET', () => {
    const cursor = Buffer.from(JSON.stringify({ keys: [], seq: '42', sort: '' })).toString('base64url');
    const { sql, params } = compileSearch(parse('Patient', `_cursor=${cursor}`));
    expect(sql).not.toMatch(/offset/i);
    expect(sql).toMatch(/seq > \$\d+::bigint/);
    expect(params).toContain('42');
  });
  it('rejects a tampered cursor with 400', () => {
    expect(() => compileSearch(parse('Patient', '_cursor=not-a-cursor'))).toThrow(Invalid);
  });
  it('adds a count statement only when a total is asked for', () => {
    expect(compileSearch(parse('Patient', 'gender=male')).countSql).toBeUndefined();
    expect(compileSearch(parse('Patient', 'gender=male&gender=female&_total=accurate')).countSql).toMatch(/^select count\(\*\)::int as total from resource r/);
  });
  it('counts a one-filter search from its index rows alone, and no other search that way', () => {
    for (const qs of ['gender=male', 'name=li', 'general-practitioner.name=li', 'birthdate=ge2000', 'identifier=urn:x|1,urn:x|2']) {
      expect({ qs, count: compileSearch(parse('Patient', `${qs}&_total=accurate`)).countSql }).toEqual({ qs, count: expect.stringMatching(/^select count\(distinct i\.res_id\)::int as total from idx_\w+ i where i\.res_type = \$1 /) });
    }
    // Two filters, a negation, :missing, :text, _id, several types, or the estimate: the plain count.
    for (const qs of ['gender=male&name=li', 'gender:not=male', 'gender:missing=true', 'name:text=li', '_id=a', 'gender=male&_total=estimate']) {
      expect({ qs, count: compileSearch(parse('Patient', qs.includes('_total') ? qs : `${qs}&_total=accurate`)).countSql }).toEqual({ qs, count: expect.stringMatching(/^select count\(\*\)::int as total from resource r/) });
    }
    const multi = compileSearch(parseSearchRequest('Patient', [['gender', 'male'], ['_total', 'accurate']], registry, LIMITS, false, ['Patient', 'Practitioner']));
    expect(multi.countSql).toMatch(/^select count\(\*\)/);
  });
});
