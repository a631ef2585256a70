// Saving, listing and withdrawing a study's image measurements (image-measurements.ts says what
// one looks like in FHIR). Each measurement must lie on an instance of the study; a reader
// withdraws only their own (status entered-in-error: the record stays, marked).
import type { Observation } from '@medplum/fhirtypes';
import type { Database } from '../db/database.js';
import { Forbidden, Invalid, NotFound } from '../fhir/errors.js';
import type { FhirRepository } from '../fhir/repository.js';
import { parseSearchRequest } from '../fhir/search/parse.js';
import { MEASUREMENT_TAG, measurementObservation, measurementOf, type ImageMeasurement } from './image-measurements.js';

const SEARCH_LIMITS = { defaultCount: 500, maxCount: 500, defaultTotal: 'none' as const };

export type SavedMeasurement = NonNullable<ReturnType<typeof measurementOf>>;

export class MeasurementStore {
  constructor(
    private readonly repo: FhirRepository,
    private readonly db: Database,
  ) {}

  async save(study: { studyUid: string; imagingStudyId: string; patientRef: string | null }, reader: string, measurements: ImageMeasurement[]): Promise<SavedMeasurement[]> {
    const instances = [...new Set(measurements.map((m) => m.sopInstanceUid))];
    const rows = await this.db.query<{ sop_instance_uid: string; series_uid: string }>('select sop_instance_uid, series_uid from dicom_instance where study_uid = $1 and sop_instance_uid = any($2)', [study.studyUid, instances]);
    const seriesOf = new Map(rows.map((r) => [r.sop_instance_uid, r.series_uid]));
    for (const m of measurements) {
      if (seriesOf.get(m.sopInstanceUid) !== m.seriesUid) throw new Invalid(`Instance ${m.sopInstanceUid} of series ${m.seriesUid} is not in study ${study.studyUid}`);
    }
    const when = new Date().toISOString();
    const saved = await this.repo.transaction((tx) => Promise.all(measurements.map((m) => tx.create(measurementObservation(m, study, reader, when)))));
    return saved.map((o) => measurementOf(o)!);
  }

  async ofStudy(imagingStudyId: string): Promise<SavedMeasurement[]> {
    const request = parseSearchRequest(
      'Observation',
      [['derived-from', `ImagingStudy/${imagingStudyId}`], ['_tag', `${MEASUREMENT_TAG.system}|${MEASUREMENT_TAG.code}`], ['status:not', 'entered-in-error'], ['_sort', '_lastUpdated']],
      this.repo.registry,
      SEARCH_LIMITS,
    );
    return ((await this.repo.search(request)).resources as Observation[]).map((o) => measurementOf(o)).filter((m): m is SavedMeasurement => !!m);
  }

  /** The study (ImagingStudy id) a saved measurement belongs to. */
  async studyOf(id: string): Promise<string> {
    const o = (await this.repo.read('Observation', id).catch(() => undefined)) as Observation | undefined;
    const study = o?.meta?.tag?.some((t) => t.system === MEASUREMENT_TAG.system && t.code === MEASUREMENT_TAG.code) ? o.derivedFrom?.[0]?.reference?.split('/')[1] : undefined;
    if (!study) throw new NotFound(`No saved measurement ${id}`);
    return study;
  }

  async withdraw(id: string, reader: string): Promise<void> {
    await this.repo.transaction(async (tx) => {
      const o = (await tx.read('Observation', id)) as Observation;
      if (o.performer?.[0]?.reference !== reader) throw new Forbidden('Only the reader who saved a measurement may withdraw it');
      if (o.status !== 'entered-in-error') await tx.update<Observation>({ ...o, status: 'entered-in-error' });
    });
  }
}
