// What an association stored, study by study, until it is flushed: then each study's
// ImagingStudy is refreshed (linking its patient) and the stores are audited as one 'create' per
// study naming that patient, refusals as one failed 'create'. Flushes run one after another.
import type { Actor } from '../../fhir/access/access-control.js';
import type { DicomwebServices } from '../dicomweb/context.js';
import { imagingStudyIdFor } from '../imaging-study.js';

export class StoredStudies {
  readonly #instances = new Map<string, number>();
  #refused = 0;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly services: Pick<DicomwebServices, 'linker' | 'audit' | 'logger'>,
    private readonly actor: Actor,
    private readonly dicomwebBase: () => string,
  ) {}

  stored(studyUid: string): void {
    this.#instances.set(studyUid, (this.#instances.get(studyUid) ?? 0) + 1);
  }

  refused(): void {
    this.#refused += 1;
  }

  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      const studies = [...this.#instances];
      this.#instances.clear();
      const refused = this.#refused;
      this.#refused = 0;
      const { linker, audit, logger } = this.services;
      for (const [studyUid, instances] of studies) {
        let patient: string | undefined;
        try {
          patient = await linker.refresh(studyUid, this.dicomwebBase());
        } catch (err) {
          logger.error('refreshing an ImagingStudy after C-STORE failed', { studyUid, error: (err as Error).message });
        }
        audit.record(this.actor, {
          kind: 'create',
          type: 'ImagingStudy',
          id: imagingStudyIdFor(studyUid),
          outcome: 'success',
          patients: patient ? [patient] : [],
          detail: `C-STORE: ${instances} instance(s) of study ${studyUid}`,
          dicomEvent: 'instances-transferred',
        });
      }
      if (refused) audit.record(this.actor, { kind: 'create', type: 'ImagingStudy', outcome: 'failed', patients: [], detail: `C-STORE: ${refused} instance(s) refused` });
    }).catch((err: Error) => void this.services.logger.error('auditing C-STORE failed', { error: err.message }));
    return this.#flushing;
  }
}
