// The worklist's filters as a QIDO-RS study query (PS3.18 §10.6.1). Pure, so it is unit-tested.
export interface WorklistFilters {
  patientName: string;
  patientId: string;
  /** A modality code (CT, MR, ...) or '' for any. */
  modality: string;
  /** From <input type="date">: YYYY-MM-DD or ''. */
  dateFrom: string;
  dateTo: string;
  accession: string;
  institution: string;
}

export const NO_FILTERS: WorklistFilters = { patientName: '', patientId: '', modality: '', dateFrom: '', dateTo: '', accession: '', institution: '' };

export interface Page {
  offset: number;
  size: number;
}

/**
 * The QIDO parameters for one page. One more study than the page holds is asked for, so the
 * worklist knows whether a next page exists (QIDO-RS gives no total).
 */
export function studyQuery(filters: WorklistFilters, page: Page): URLSearchParams {
  const params = new URLSearchParams();
  const name = filters.patientName.trim();
  // Names match anywhere unless the user wrote their own wildcards; case is ignored by the hub.
  if (name) params.set('PatientName', /[*?]/.test(name) ? name : `*${name}*`);
  if (filters.patientId.trim()) params.set('PatientID', filters.patientId.trim());
  if (filters.modality) params.set('ModalitiesInStudy', filters.modality);
  const range = dateRange(filters.dateFrom, filters.dateTo);
  if (range) params.set('StudyDate', range);
  if (filters.accession.trim()) params.set('AccessionNumber', filters.accession.trim());
  if (filters.institution.trim()) params.set('InstitutionName', /[*?]/.test(filters.institution) ? filters.institution.trim() : `*${filters.institution.trim()}*`);
  params.set('limit', String(page.size + 1));
  params.set('offset', String(page.offset));
  return params;
}

/** YYYY-MM-DD inputs → a DICOM date range (`from-to`, `from-`, `-to`), or undefined. */
export function dateRange(from: string, to: string): string | undefined {
  const da = (value: string) => (/^\d{4}-\d{2}-\d{2}$/.test(value) ? value.replace(/-/g, '') : '');
  const a = da(from);
  const b = da(to);
  if (!a && !b) return undefined;
  if (a && b && a === b) return a;
  return `${a}-${b}`;
}
