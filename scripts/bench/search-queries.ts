// The query classes of the search benchmark (search.ts): what each class asks, its p50 target,
// its share of the mixed load, and a list of concrete queries drawn (seeded) from the generated
// population, so every query names a patient, identifier, code or name that exists.
import { LOINC, Prng, RESIDENT_ID_SYSTEM, type PatientSummary } from './search-data.js';

/** A generated patient whose server-assigned id is known. */
export interface KnownPatient extends PatientSummary {
  id: string;
}

/** One concrete query, and what it should find when the search is right (where that is known). */
export interface Query {
  /** Relative to the FHIR base, e.g. `Patient?identifier=...`. */
  path: string;
  /** Resources with search mode `match` (Bundle.total when the server counts). */
  matches?: number;
  /** Resources with search mode `include` (for _revinclude). */
  included?: number;
}

export interface QueryClass {
  key: string;
  /** The target's group as the brief states it: token, name, chain, revinclude, everything. */
  group: string;
  /** The query's shape, e.g. `Patient?identifier=<system>|<value>`. */
  shape: string;
  /** p50 target with one client, ms. */
  targetP50: number;
  /** Share of the mixed load (relative weight). */
  weight: number;
  /** Concrete queries; the benchmark cycles through them. */
  queries: Query[];
}

/** p99 target of the mixed load (all classes, 16 clients), ms. */
export const MIX_P99_TARGET = 50;

/**
 * The classes, each with `perClass` queries. Weights describe a clinical front end: lookups by
 * identifier and per-patient results dominate, $everything (opening a whole record) is rare.
 */
export function queryClasses(patients: KnownPatient[], seed: number, perClass = 500): QueryClass[] {
  if (patients.length === 0) throw new Error('no loaded patients to build queries from');
  // A separate stream per class: adding a class never changes another class's queries.
  const draw = (salt: number, make: (rng: Prng) => Query): Query[] => {
    const rng = new Prng(seed, 0x5ea4c4, salt);
    return Array.from({ length: perClass }, () => make(rng));
  };
  const anyPatient = (rng: Prng) => rng.pick(patients);
  const identifier = (p: KnownPatient) => `${RESIDENT_ID_SYSTEM}|${p.residentId}`;
  // Half the name searches in characters (王), half in pinyin; a pinyin prefix is its first 3 letters.
  const familyPrefix = (rng: Prng, p: KnownPatient) => (rng.chance(0.5) ? p.family : p.familyPinyin.slice(0, 3));
  const family = (rng: Prng, p: KnownPatient) => (rng.chance(0.5) ? p.family : p.familyPinyin);

  // $everything on a median patient: the middle tenth by resource count.
  const bySize = [...patients].sort((a, b) => a.resources - b.resources);
  const middle = bySize.slice(Math.floor(bySize.length * 0.45), Math.max(Math.floor(bySize.length * 0.55), Math.floor(bySize.length * 0.45) + 1));

  return [
    {
      key: 'token: identifier',
      group: 'token',
      shape: 'Patient?identifier=<system>|<resident ID>',
      targetP50: 2,
      weight: 25,
      queries: draw(1, (rng) => ({ path: `Patient?${qs([['identifier', identifier(anyPatient(rng))]])}`, matches: 1 })),
    },
    {
      key: 'token: code + subject',
      group: 'token',
      shape: 'Observation?code=http://loinc.org|<code>&subject=Patient/<id>',
      targetP50: 2,
      weight: 25,
      queries: draw(2, (rng) => {
        const p = anyPatient(rng);
        return { path: `Observation?${qs([['code', `${LOINC}|${rng.pick(p.observationCodes)}`], ['subject', `Patient/${p.id}`]])}` };
      }),
    },
    {
      key: 'name: prefix',
      group: 'name',
      shape: 'Patient?name=<family-name prefix>',
      targetP50: 3,
      weight: 15,
      queries: draw(3, (rng) => ({ path: `Patient?${qs([['name', familyPrefix(rng, anyPatient(rng))]])}` })),
    },
    {
      key: 'chain: subject identifier',
      group: 'chain',
      shape: 'Observation?subject:Patient.identifier=<system>|<resident ID>',
      targetP50: 10,
      weight: 10,
      queries: draw(4, (rng) => {
        const p = anyPatient(rng);
        return { path: `Observation?${qs([['subject:Patient.identifier', identifier(p)]])}`, matches: p.observations };
      }),
    },
    {
      key: 'chain: subject name',
      group: 'chain',
      shape: 'Encounter?subject.name=<family>&_count=20',
      targetP50: 10,
      weight: 10,
      queries: draw(5, (rng) => ({ path: `Encounter?${qs([['subject.name', family(rng, anyPatient(rng))], ['_count', '20']])}` })),
    },
    {
      key: 'revinclude',
      group: 'revinclude',
      shape: 'Patient?_id=<id>&_revinclude=Observation:subject',
      targetP50: 15,
      weight: 10,
      queries: draw(6, (rng) => {
        const p = anyPatient(rng);
        return { path: `Patient?${qs([['_id', p.id], ['_revinclude', 'Observation:subject']])}`, matches: 1, included: p.observations };
      }),
    },
    {
      key: 'everything',
      group: 'everything',
      shape: 'Patient/<id>/$everything (a median patient)',
      targetP50: 100,
      weight: 5,
      queries: draw(7, (rng) => ({ path: `Patient/${encodeURIComponent(rng.pick(middle).id)}/$everything` })),
    },
  ];
}

/** A query string: values percent-encoded; names keep `:` and `.` so chains stay readable in logs. */
function qs(pairs: [string, string][]): string {
  return pairs.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
}

/**
 * The order classes take turns in the mixed load: a shuffled deck of 100 slots, each class
 * holding slots in proportion to its weight, so every 100 requests follow the weights exactly.
 */
export function mixDeck(classes: QueryClass[], seed: number): number[] {
  const total = classes.reduce((n, c) => n + c.weight, 0);
  const deck: number[] = [];
  classes.forEach((c, k) => {
    for (let i = Math.max(1, Math.round((100 * c.weight) / total)); i > 0; i--) deck.push(k);
  });
  return new Prng(seed, 0xdec4).sample(deck, deck.length);
}
