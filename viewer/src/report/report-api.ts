// The hub's reporting API (/imaging/studies/{uid}/reports, /imaging/reports/{id}/…) as the report
// panel needs it. Reports are FHIR DiagnosticReports: findings in presentedForm (base64 UTF-8
// text), impression in conclusion; see docs/VIEWER.md "Reports".
import type { HubClient } from '../dicomweb/http.js';

export interface DiagnosticReport {
  resourceType: 'DiagnosticReport';
  id: string;
  meta?: { versionId?: string; lastUpdated?: string };
  status: string;
  issued?: string;
  conclusion?: string;
  presentedForm?: { title?: string; data?: string; language?: string }[];
  resultsInterpreter?: { reference?: string }[];
}

export interface ReportText {
  findings: string;
  impression: string;
}

export interface ReportVersion {
  versionId: string;
  status: string;
  lastUpdated?: string;
  issued?: string;
  reader?: string;
  content: ReportText;
  signature?: { signer: string; when: string; valid: boolean; problem?: string };
}

const SIGNED = new Set(['final', 'amended', 'corrected', 'appended']);

export function isSigned(report: DiagnosticReport): boolean {
  return SIGNED.has(report.status);
}

/** What the reader wrote, decoded from the resource. */
export function reportText(report: DiagnosticReport): ReportText {
  const form = report.presentedForm?.find((a) => a.title === 'findings');
  const findings = form?.data ? new TextDecoder().decode(Uint8Array.from(atob(form.data), (c) => c.charCodeAt(0))) : '';
  return { findings, impression: report.conclusion ?? '' };
}

export class ReportApi {
  constructor(
    private readonly client: HubClient,
    /** The hub's /imaging root, e.g. https://hub/imaging */
    private readonly imaging: string,
  ) {}

  async ofStudy(studyUid: string): Promise<DiagnosticReport[]> {
    return (await this.client.json<{ reports: DiagnosticReport[] }>(`${this.imaging}/studies/${encodeURIComponent(studyUid)}/reports`)).reports;
  }

  async createDraft(studyUid: string, text: ReportText, language: string): Promise<DiagnosticReport> {
    return this.send('POST', `${this.imaging}/studies/${encodeURIComponent(studyUid)}/reports`, { ...text, language });
  }

  async updateDraft(report: DiagnosticReport, text: ReportText, language: string): Promise<DiagnosticReport> {
    return this.send('PUT', `${this.imaging}/reports/${encodeURIComponent(report.id)}`, { ...text, language }, report.meta?.versionId);
  }

  /** Signs the draft as it is stored, or — for a signed report — the amended text. */
  async sign(report: DiagnosticReport, amendment?: ReportText & { language: string }): Promise<DiagnosticReport> {
    const result = await this.send<{ report: DiagnosticReport }>('POST', `${this.imaging}/reports/${encodeURIComponent(report.id)}/sign`, amendment ?? {}, report.meta?.versionId);
    return result.report;
  }

  async versions(reportId: string): Promise<ReportVersion[]> {
    return (await this.client.json<{ versions: ReportVersion[] }>(`${this.imaging}/reports/${encodeURIComponent(reportId)}/versions`)).versions;
  }

  private async send<T = DiagnosticReport>(method: 'POST' | 'PUT', url: string, json: unknown, version?: string): Promise<T> {
    const res = await this.client.request(url, { method, json, accept: 'application/json', ...(version ? { ifMatch: `W/"${version}"` } : {}) });
    return (await res.json()) as T;
  }
}
