// Test fixtures for federation: the same residents as three institutions record them (different
// MRNs, one without the ID number, one with the legacy 15-digit form, slightly different
// spellings), and loading Synthea bundles into a source hub.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, BundleEntry, Patient, Resource } from '@medplum/fhirtypes';
import { makeResidentId, RESIDENT_ID_SYSTEMS } from '../../server/src/fhir/identity/resident-id.js';

export const SYNTHEA_SMART = join(import.meta.dirname, '../../../shared/testdata/fhir/synthea/smart');

/** The smallest Synthea bundles, smallest first (78-147 entries). */
export function smallSyntheaBundles(count: number): { file: string; bundle: Bundle }[] {
  return readdirSync(SYNTHEA_SMART)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: f, bundle: JSON.parse(readFileSync(join(SYNTHEA_SMART, f), 'utf8')) as Bundle }))
    .sort((a, b) => (a.bundle.entry?.length ?? 0) - (b.bundle.entry?.length ?? 0))
    .slice(0, count);
}

export type SourceName = 'hospital' | 'clinic' | 'private';
export const MRN_SYSTEM = (source: SourceName) => `urn:suhe:test:mrn:${source}`;

export interface Resident {
  key: string;
  family: string;
  given: string;
  pinyin: [family: string, given: string];
  gender: 'male' | 'female';
  birthDate: string;
  phone: string;
  residentId: string;
  address: string;
}

export const RESIDENTS: Resident[] = [
  { key: 'a', family: '张', given: '伟', pinyin: ['Zhang', 'Wei'], gender: 'male', birthDate: '1958-03-12', phone: '13812345678', residentId: makeResidentId('310107', '1958-03-12', 17), address: '上海市普陀区江宁路100弄3号' },
  { key: 'b', family: '王', given: '芳', pinyin: ['Wang', 'Fang'], gender: 'female', birthDate: '1990-07-01', phone: '13998765432', residentId: makeResidentId('310107', '1990-07-01', 28), address: '上海市普陀区长寿路55号' },
  { key: 'c', family: '李', given: '娜', pinyin: ['Li', 'Na'], gender: 'female', birthDate: '1975-11-30', phone: '13700001111', residentId: makeResidentId('310107', '1975-11-30', 44), address: '上海市普陀区曹杨路8号' },
];

/** A wrong check character for a valid number (ID-01): a data-quality problem, not a refusal. */
export function withWrongCheckChar(id: string): string {
  const last = id[17];
  return id.slice(0, 17) + (last === '0' ? '1' : '0');
}

/**
 * How each source records a resident:
 * - hospital: 18-digit ID under the WS/T 500 OID, Han-character name;
 * - clinic: the same number under the HL7 China OID (resident c: with a wrong check character),
 *   name in Han characters, phone written with +86;
 * - private clinic: no ID number, the name in pinyin only, the address written differently.
 */
export function residentPatient(r: Resident, source: SourceName): Patient {
  const mrn = { system: MRN_SYSTEM(source), value: `${source.toUpperCase()}-${r.key}-${r.birthDate.slice(0, 4)}` };
  const base: Patient = { resourceType: 'Patient', id: `${source}-${r.key}`, gender: r.gender, birthDate: r.birthDate };
  switch (source) {
    case 'hospital':
      return { ...base, identifier: [mrn, { system: RESIDENT_ID_SYSTEMS[0], value: r.residentId }], name: [{ use: 'official', family: r.family, given: [r.given], text: r.family + r.given }], telecom: [{ system: 'phone', value: r.phone }], address: [{ text: r.address }] };
    case 'clinic':
      return {
        ...base,
        identifier: [mrn, { system: RESIDENT_ID_SYSTEMS[1], value: r.key === 'c' ? withWrongCheckChar(r.residentId) : r.residentId }],
        name: [{ family: r.family, given: [r.given] }],
        telecom: [{ system: 'phone', value: `+86 ${r.phone.slice(0, 3)} ${r.phone.slice(3, 7)} ${r.phone.slice(7)}` }],
        address: [{ text: r.address.replace('上海市', '') }],
      };
    case 'private':
      return { ...base, identifier: [mrn], name: [{ family: r.pinyin[0], given: [r.pinyin[1]] }], telecom: [{ system: 'phone', value: r.phone }], address: [{ text: r.address.replace(/(\d+)/g, ' $1 ') }] };
  }
}

/** A transaction Bundle (PUT with the source's own ids) of the residents with one visit each at this source. */
export function residentsBundle(source: SourceName): Bundle {
  const entry: BundleEntry[] = [];
  const put = (resource: Resource) => entry.push({ fullUrl: `${resource.resourceType}/${resource.id}`, resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } });
  for (const r of RESIDENTS) {
    const patient = residentPatient(r, source);
    put(patient);
    put({ resourceType: 'Encounter', id: `${source}-${r.key}-visit`, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${patient.id}` }, period: { start: '2026-10-01T09:00:00+08:00', end: '2026-10-01T09:30:00+08:00' } });
    put({ resourceType: 'Observation', id: `${source}-${r.key}-bp`, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8480-6', display: 'Systolic blood pressure' }] }, subject: { reference: `Patient/${patient.id}` }, encounter: { reference: `Encounter/${source}-${r.key}-visit` }, effectiveDateTime: '2026-10-01T09:10:00+08:00', valueQuantity: { value: 128 + RESIDENTS.indexOf(r), unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } });
  }
  return { resourceType: 'Bundle', type: 'transaction', entry };
}
