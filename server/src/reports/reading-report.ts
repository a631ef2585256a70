// What a reading report is in FHIR: a DiagnosticReport tagged `report|reading`, category RAD,
// code LOINC 18748-4 (diagnostic imaging study), linked to its ImagingStudy and the study's
// patient. The findings are its presentedForm (text/plain, titled "findings"); the impression is
// its conclusion. Status: `preliminary` while a draft, `final` once signed, `amended` for each
// signed amendment — every version is kept by the FHIR history, each signed one has a Provenance
// with the signature. Reading reports are written only through the reporting API
// (/imaging/studies/{uid}/reports), never by plain FHIR writes: the write rule below refuses those,
// so a signed report cannot be changed without a new signature.
import type { DiagnosticReport, Resource } from '@medplum/fhirtypes';
import { Forbidden, Invalid } from '../fhir/errors.js';
import type { WriteRule } from '../fhir/module-operations.js';
import { MEASUREMENT_TAG } from './image-measurements.js';

export const READING_TAG = { system: 'https://suhe.example.cn/fhir/CodeSystem/report', code: 'reading', display: 'Image reading report' };
export const SIGNED_STATUSES = new Set(['final', 'amended', 'corrected', 'appended']);
/** The longest findings or impression text accepted (a report, not a book). */
export const MAX_TEXT = 20_000;

export interface ReportContent {
  findings: string;
  impression: string;
  /** BCP-47 language of the text, e.g. zh-CN. */
  language?: string;
}

export function isReadingReport(resource: Resource | undefined): boolean {
  return resource?.resourceType === 'DiagnosticReport' && !!resource.meta?.tag?.some((t) => t.system === READING_TAG.system && t.code === READING_TAG.code);
}

/** Checks and trims what a reader typed; Invalid names the field to fix. */
export function parseContent(body: unknown): ReportContent {
  const input = (body ?? {}) as Record<string, unknown>;
  const text = (name: 'findings' | 'impression') => {
    const value = input[name] ?? '';
    if (typeof value !== 'string') throw new Invalid(`${name} must be text`);
    if (value.length > MAX_TEXT) throw new Invalid(`${name} is longer than ${MAX_TEXT} characters`);
    return value.trim();
  };
  const findings = text('findings');
  const impression = text('impression');
  if (!findings && !impression) throw new Invalid('A report needs findings or an impression');
  const language = input.language;
  if (language !== undefined && (typeof language !== 'string' || !/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/.test(language))) throw new Invalid('language must be a language tag such as zh-CN or en');
  return { findings, impression, language: language as string | undefined };
}

/** The report's content as the reader wrote it. */
export function contentOf(report: DiagnosticReport): ReportContent {
  const form = report.presentedForm?.find((a) => a.title === 'findings');
  return {
    findings: form?.data ? Buffer.from(form.data, 'base64').toString('utf8') : '',
    impression: report.conclusion ?? '',
    language: form?.language,
  };
}

export function draftReport(study: { imagingStudyId: string; patientRef: string | null }, author: string, content: ReportContent): DiagnosticReport {
  return withContent(
    {
      resourceType: 'DiagnosticReport',
      meta: { tag: [READING_TAG] },
      status: 'preliminary',
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'RAD', display: 'Radiology' }] }],
      code: { coding: [{ system: 'http://loinc.org', code: '18748-4', display: 'Diagnostic imaging study' }] },
      ...(study.patientRef ? { subject: { reference: `Patient/${study.patientRef}` } } : {}),
      imagingStudy: [{ reference: `ImagingStudy/${study.imagingStudyId}` }],
      resultsInterpreter: [{ reference: author }],
    },
    content,
  );
}

export function withContent(report: DiagnosticReport, content: ReportContent): DiagnosticReport {
  const { presentedForm, conclusion, ...rest } = report;
  void presentedForm;
  void conclusion;
  return {
    ...rest,
    ...(content.findings
      ? { presentedForm: [{ contentType: 'text/plain; charset=utf-8', ...(content.language ? { language: content.language } : {}), title: 'findings', data: Buffer.from(content.findings, 'utf8').toString('base64') }] }
      : {}),
    ...(content.impression ? { conclusion: content.impression } : {}),
  };
}

function isImageMeasurement(resource: Resource | undefined): boolean {
  return resource?.resourceType === 'Observation' && !!resource.meta?.tag?.some((t) => t.system === MEASUREMENT_TAG.system && t.code === MEASUREMENT_TAG.code);
}

/** Plain FHIR writes may not create, change or delete reading reports or saved image measurements. */
export const readingReportWriteRule: WriteRule = (kind, { type, previous, next }) => {
  if (type === 'Observation' && (isImageMeasurement(previous) || isImageMeasurement(next))) {
    throw new Forbidden(`Image measurements are saved through the reporting API (POST /imaging/studies/{uid}/measurements, DELETE /imaging/measurements/{id}); this ${kind} was refused`);
  }
  if (type !== 'DiagnosticReport' || !(isReadingReport(previous) || isReadingReport(next))) return;
  throw new Forbidden(
    `Reading reports are written through the reporting API (POST /imaging/studies/{uid}/reports, PUT /imaging/reports/{id}, POST /imaging/reports/{id}/sign), where drafts are kept by their reader and signed versions cannot change without a new signature; this ${kind} was refused`,
  );
};
