// A golden Patient: the hub's one record of a real person, assembled from the source Patients
// linked to it. Which value survives: the newest source record that carries a valid resident ID
// number gives name, sex, birth date and address (an ID-checked record is the most trustworthy);
// identifiers and phone numbers are the union of all members. The resident ID number appears
// once, normalised to 18 characters under the HL7 China OID (ID-01/02).
import type { Address, ContactPoint, HumanName, Identifier, Patient } from '@medplum/fhirtypes';
import { RESIDENT_ID_SYSTEMS } from '../../fhir/identity/resident-id.js';
import { FEDERATION_CODES } from '../source.js';

export const GOLDEN_TAG = { system: FEDERATION_CODES, code: 'golden', display: 'Golden record (master patient index)' };
const RESIDENT_ID_SYSTEM = RESIDENT_ID_SYSTEMS[1];

/** What the MPI keeps of each source Patient to build golden records without reading them back. */
export interface MemberDemographics {
  patientId: string;
  source?: string;
  residentId?: string;
  name?: HumanName[];
  gender?: Patient['gender'];
  birthDate?: string;
  telecom?: ContactPoint[];
  address?: Address[];
  identifier?: Identifier[];
  updatedAt: string;
}

export function demographicsOf(patient: Patient, residentId: string | undefined): MemberDemographics {
  return {
    patientId: patient.id!,
    source: patient.meta?.source,
    residentId,
    name: patient.name,
    gender: patient.gender,
    birthDate: patient.birthDate,
    telecom: patient.telecom,
    address: patient.address,
    identifier: patient.identifier,
    updatedAt: new Date().toISOString(),
  };
}

export function isGolden(patient: Patient): boolean {
  return (patient.meta?.tag ?? []).some((t) => t.system === GOLDEN_TAG.system && t.code === GOLDEN_TAG.code);
}

/** The golden Patient for these members; none left: inactive, pointing at where they went (a merge). */
export function buildGolden(goldenId: string, members: MemberDemographics[], replacedBy?: string): Patient {
  const golden: Patient = { resourceType: 'Patient', id: goldenId, meta: { tag: [GOLDEN_TAG] }, active: members.length > 0 };
  if (!members.length) {
    if (replacedBy) golden.link = [{ other: { reference: `Patient/${replacedBy}` }, type: 'replaced-by' }];
    return golden;
  }
  const ordered = [...members].sort((a, b) => Number(!!b.residentId) - Number(!!a.residentId) || b.updatedAt.localeCompare(a.updatedAt));
  const best = ordered[0];
  const first = <K extends keyof MemberDemographics>(key: K) => ordered.map((m) => m[key]).find((v) => v !== undefined && (!Array.isArray(v) || v.length > 0));

  const identifiers = new Map<string, Identifier>();
  const residentId = ordered.find((m) => m.residentId)?.residentId;
  if (residentId) identifiers.set(`${RESIDENT_ID_SYSTEM}|${residentId}`, { use: 'official', system: RESIDENT_ID_SYSTEM, value: residentId });
  for (const m of ordered) {
    for (const id of m.identifier ?? []) {
      if (!id.system || !id.value || (RESIDENT_ID_SYSTEMS as readonly string[]).includes(id.system)) continue;
      const key = `${id.system}|${id.value}`;
      if (!identifiers.has(key)) identifiers.set(key, { ...(id.type ? { type: id.type } : {}), system: id.system, value: id.value, ...(id.assigner ? { assigner: id.assigner } : {}) });
    }
  }
  const phones = new Map<string, ContactPoint>();
  for (const m of ordered) for (const t of m.telecom ?? []) if (t.value && !phones.has(`${t.system}|${t.value}`)) phones.set(`${t.system}|${t.value}`, { system: t.system, value: t.value, ...(t.use ? { use: t.use } : {}) });

  const name = best.name?.length ? best.name : (first('name') as HumanName[] | undefined);
  const address = best.address?.length ? best.address : (first('address') as Address[] | undefined);
  return {
    ...golden,
    ...(identifiers.size ? { identifier: [...identifiers.values()] } : {}),
    ...(name?.length ? { name } : {}),
    ...(phones.size ? { telecom: [...phones.values()] } : {}),
    ...((best.gender ?? first('gender')) ? { gender: (best.gender ?? first('gender')) as Patient['gender'] } : {}),
    ...((best.birthDate ?? first('birthDate')) ? { birthDate: (best.birthDate ?? first('birthDate')) as string } : {}),
    ...(address?.length ? { address } : {}),
    link: ordered.map((m) => ({ other: { reference: `Patient/${m.patientId}` }, type: 'seealso' as const })),
  };
}

/** The source Patient with its link to its golden record (and no stale one). */
export function withGoldenLink(patient: Patient, goldenId: string | undefined): Patient {
  const others = (patient.link ?? []).filter((l) => l.type !== 'refer');
  const link = goldenId ? [...others, { other: { reference: `Patient/${goldenId}` }, type: 'refer' as const }] : others;
  const next: Patient = { ...patient };
  if (link.length) next.link = link;
  else delete next.link;
  return next;
}
