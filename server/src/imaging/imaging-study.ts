// Keeps an ImagingStudy in step with the DICOM index: one per Study Instance UID (identifier
// urn:dicom:uid | urn:oid:<uid>), its series and instances, an endpoint to the hub's DICOMweb,
// and a subject. The subject is the Patient whose identifier equals the DICOM Patient ID; when
// none exists yet, a Patient is made from the DICOM header (tagged as such) so the study always
// sits in a patient compartment — the master patient index links it to the resident's record.
import { createHash } from 'node:crypto';
import type { Endpoint, ImagingStudy, Patient, Resource } from '@medplum/fhirtypes';
import type { Database } from '../db/database.js';
import { Conflict } from '../fhir/errors.js';
import type { FhirRepository } from '../fhir/repository.js';
import { parseSearchRequest } from '../fhir/search/parse.js';
import type { PersonNameParts } from './instance-record.js';
import { RECOGNITION_TAG_SYSTEM, recognitionExtension, type Recognition } from './recognition.js';

export const DICOM_UID_SYSTEM = 'urn:dicom:uid';
export const DICOM_PATIENT_ID_SYSTEM = 'urn:suhe:dicom:patient-id';
export const RECORD_ORIGIN_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/record-origin';
export const DICOMWEB_ENDPOINT_ID = 'suhe-dicomweb';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

interface StudyRow {
  study_uid: string;
  imaging_study_id: string;
  patient_ref: string | null;
  patient_id: string | null;
  issuer_of_patient_id: string | null;
  patient_name: string | null;
  patient_birth_date: string | null;
  patient_sex: string | null;
  study_date: string | null;
  study_time: string | null;
  accession_number: string | null;
  study_description: string | null;
  modalities: string[];
  series_count: number;
  instance_count: number;
  recognition: string | null;
}

export class ImagingStudyLinker {
  // Refreshes of one study run one after another (a later one must not write an older picture),
  // and callers who arrive while one runs share the single refresh queued behind it: four
  // clients storing into one study cause two writes of its ImagingStudy, not four.
  private readonly running = new Map<string, Promise<string | undefined>>();
  private readonly queued = new Map<string, Promise<string | undefined>>();
  private endpointAddress?: string;

  constructor(
    private readonly db: Database,
    private readonly repo: FhirRepository,
  ) {}

  /** Brings the study's ImagingStudy (and its patient link) up to date; returns the patient id. */
  refresh(studyUid: string, dicomwebBase: string): Promise<string | undefined> {
    const waiting = this.queued.get(studyUid);
    if (waiting) return waiting;
    const previous = this.running.get(studyUid);
    const start = (): Promise<string | undefined> => {
      this.queued.delete(studyUid);
      const run = this.write(studyUid, dicomwebBase);
      this.running.set(studyUid, run);
      void run.finally(() => this.running.get(studyUid) === run && this.running.delete(studyUid)).catch(() => undefined);
      return run;
    };
    if (!previous) return start();
    const next = previous.catch(() => undefined).then(start);
    this.queued.set(studyUid, next);
    return next;
  }

  private async write(studyUid: string, dicomwebBase: string): Promise<string | undefined> {
    const [study] = await this.db.query<StudyRow>('select * from dicom_study where study_uid = $1', [studyUid]);
    if (!study) return undefined;
    let patientId = study.patient_ref;
    if (!patientId) {
      patientId = await this.resolvePatient(study);
      await this.db.query('update dicom_study set patient_ref = $2 where study_uid = $1', [studyUid, patientId]);
    }
    await this.ensureEndpoint(dicomwebBase);
    const series = await this.db.query<{ series_uid: string; modality: string | null; series_number: number | null; series_description: string | null; body_part: string | null; instance_count: number }>(
      'select series_uid, modality, series_number, series_description, body_part, instance_count from dicom_series where study_uid = $1 order by series_number nulls last, seq',
      [studyUid],
    );
    const instances = await this.db.query<{ sop_instance_uid: string; series_uid: string; sop_class_uid: string; instance_number: number | null }>(
      'select sop_instance_uid, series_uid, sop_class_uid, instance_number from dicom_instance where study_uid = $1 order by instance_number nulls last, seq',
      [studyUid],
    );
    const recognition = study.recognition ? (JSON.parse(study.recognition) as Recognition) : undefined;
    const resource: ImagingStudy = {
      resourceType: 'ImagingStudy',
      id: study.imaging_study_id,
      // MR-04: recognised studies can be found by their mark (_tag) and show it (extension).
      meta: recognition ? { tag: [{ system: RECOGNITION_TAG_SYSTEM, code: 'HR', display: recognition.mark }] } : undefined,
      extension: recognition ? [recognitionExtension(recognition)] : undefined,
      status: 'available',
      identifier: [
        { system: DICOM_UID_SYSTEM, value: `urn:oid:${studyUid}` },
        ...(study.accession_number ? [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'ACSN' }] }, value: study.accession_number }] : []),
      ],
      subject: { reference: `Patient/${patientId}` },
      started: dicomDateTime(study.study_date, study.study_time),
      modality: study.modalities.map((code) => ({ system: DCM, code })),
      numberOfSeries: Number(study.series_count),
      numberOfInstances: Number(study.instance_count),
      description: study.study_description ?? undefined,
      endpoint: [{ reference: `Endpoint/${DICOMWEB_ENDPOINT_ID}` }],
      series: series.map((s) => ({
        uid: s.series_uid,
        number: s.series_number ?? undefined,
        modality: { system: DCM, code: s.modality ?? 'OT' },
        description: s.series_description ?? undefined,
        numberOfInstances: Number(s.instance_count),
        bodySite: s.body_part ? { display: s.body_part } : undefined,
        instance: instances
          .filter((i) => i.series_uid === s.series_uid)
          .map((i) => ({ uid: i.sop_instance_uid, sopClass: { system: 'urn:ietf:rfc:3986', code: `urn:oid:${i.sop_class_uid}` }, number: i.instance_number ?? undefined })),
      })),
    };
    await writeRetrying(this.repo, withoutUndefined(resource));
    return patientId;
  }

  /** The Patient a DICOM Patient ID names: one whose identifier has that value, if any. */
  async findPatient(dicomPatientId: string): Promise<string | undefined> {
    const request = parseSearchRequest('Patient', [['identifier', escapeToken(dicomPatientId)]], this.repo.registry, { defaultCount: 10, maxCount: 10, defaultTotal: 'none' });
    const found = (await this.repo.search(request)).resources as Patient[];
    if (found.length <= 1) return found[0]?.id;
    // Several: the one this hub made from DICOM headers, if any, else the oldest id (stable).
    const fromDicom = found.find((p) => p.identifier?.some((i) => i.system === DICOM_PATIENT_ID_SYSTEM));
    return fromDicom?.id ?? found.map((p) => p.id!).sort()[0];
  }

  private async resolvePatient(study: StudyRow): Promise<string> {
    const found = study.patient_id ? await this.findPatient(study.patient_id) : undefined;
    if (found) return found;
    // Same Patient ID (and issuer) → same id: concurrent stores create it once (update-as-create).
    const key = study.patient_id ? `${study.issuer_of_patient_id ?? ''}|${study.patient_id}` : `study:${study.study_uid}`;
    const id = uuidFrom(`dicom-patient:${key}`);
    const name = study.patient_name ? (JSON.parse(study.patient_name) as PersonNameParts) : undefined;
    const patient: Patient = {
      resourceType: 'Patient',
      id,
      meta: { tag: [{ system: RECORD_ORIGIN_SYSTEM, code: 'dicom-header', display: 'Made from a DICOM header; awaiting the master patient index' }] },
      identifier: study.patient_id ? [{ system: DICOM_PATIENT_ID_SYSTEM, value: study.patient_id, assigner: study.issuer_of_patient_id ? { display: study.issuer_of_patient_id } : undefined }] : undefined,
      name: fhirNames(name),
      gender: ({ M: 'male', F: 'female', O: 'other' } as const)[study.patient_sex as 'M' | 'F' | 'O'] ?? (study.patient_sex ? 'unknown' : undefined),
      birthDate: study.patient_birth_date ? `${study.patient_birth_date.slice(0, 4)}-${study.patient_birth_date.slice(4, 6)}-${study.patient_birth_date.slice(6, 8)}` : undefined,
    };
    await writeRetrying(this.repo, withoutUndefined(patient));
    return id;
  }

  private async ensureEndpoint(dicomwebBase: string): Promise<void> {
    if (this.endpointAddress === dicomwebBase) return;
    const endpoint: Endpoint = {
      resourceType: 'Endpoint',
      id: DICOMWEB_ENDPOINT_ID,
      status: 'active',
      name: 'Suhe imaging cloud (DICOMweb)',
      connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'dicom-wado-rs' },
      payloadType: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any' }] }],
      payloadMimeType: ['application/dicom'],
      address: dicomwebBase,
    };
    const current = await this.repo.read('Endpoint', DICOMWEB_ENDPOINT_ID).catch(() => undefined) as Endpoint | undefined;
    if (current?.address !== dicomwebBase) await writeRetrying(this.repo, endpoint);
    this.endpointAddress = dicomwebBase;
  }
}

/**
 * Update (or create with our id), once more when another store wrote the same resource at the same
 * moment: two stores of one new patient's studies both create its Patient, and one of the two
 * inserts loses; the retry then updates what the other created.
 */
async function writeRetrying(repo: FhirRepository, resource: Resource): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await repo.update(resource);
      return;
    } catch (err) {
      if (!(err instanceof Conflict) || attempt >= 8) throw err;
      // Spread the retries of writers that lost the same race (with jitter) so they do not meet again.
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20));
    }
  }
}

function fhirNames(name: PersonNameParts | undefined): Patient['name'] {
  if (!name) return undefined;
  const names: NonNullable<Patient['name']> = [];
  const split = (pn: string | undefined, extra: object) => {
    if (!pn) return;
    const [family, given, middle] = pn.split('^');
    names.push({ ...extra, text: pn.replace(/\^+/g, ' ').trim(), family: family || undefined, given: [given, middle].filter((g): g is string => !!g) });
  };
  split(name.Alphabetic, { use: 'official' });
  split(name.Ideographic, { use: 'official', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/language', valueCode: 'zh' }] });
  return names.length ? names.map((n) => (n.given?.length ? n : { ...n, given: undefined })) : undefined;
}

function dicomDateTime(date: string | null, time: string | null): string | undefined {
  if (!date) return undefined;
  const day = `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}`;
  const t = time?.match(/^(\d{2})(\d{2})?(\d{2})?/);
  if (!t) return day;
  // DICOM times carry no zone; the district's modalities run on China Standard Time.
  return `${day}T${t[1]}:${t[2] ?? '00'}:${t[3] ?? '00'}+08:00`;
}

function escapeToken(value: string): string {
  return value.replace(/[\\,$|]/g, (c) => `\\${c}`);
}

/** The ImagingStudy for a Study Instance UID has an id derived from it: concurrent stores agree. */
export function imagingStudyIdFor(studyUid: string): string {
  return uuidFrom(`dicom-study:${studyUid}`);
}

function uuidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** JSON without undefined members or empty arrays (FHIR allows neither). */
function withoutUndefined<T extends Resource>(resource: T): T {
  return JSON.parse(JSON.stringify(resource, (_key, value) => (Array.isArray(value) && value.length === 0 ? undefined : value))) as T;
}
