// Reading reports of imaging studies: drafts kept by their reader, signed into `final`, amended
// only by a new signed version (`amended`). Each signed version gets a Provenance whose signature
// is a JWS (document-signer.ts) over that version's content hash; signing also completes the
// reader's reading assignment for the study. Callers (reports-api.ts) have already checked that
// the reader may read the study; this class keeps the report rules.
import type { DiagnosticReport, Provenance, Resource } from '@medplum/fhirtypes';
import { contentHash } from '../fhir/content-hash.js';
import { Conflict, Forbidden, Invalid, NotFound } from '../fhir/errors.js';
import type { FhirRepository } from '../fhir/repository.js';
import { parseSearchRequest } from '../fhir/search/parse.js';
import type { DocumentSigner } from './document-signer.js';
import { contentOf, draftReport, isReadingReport, READING_TAG, SIGNED_STATUSES, withContent, type ReportContent } from './reading-report.js';
import type { ReadingAssignments } from './reading-assignments.js';

export interface ReportStudy {
  imagingStudyId: string;
  patientRef: string | null;
}

export interface ReportVersion {
  versionId: string;
  status: string;
  lastUpdated?: string;
  issued?: string;
  reader?: string;
  content: ReportContent;
  /** For signed versions: who signed, when, and whether the signature still matches the content. */
  signature?: { signer: string; when: string; valid: boolean; problem?: string };
}

const SEARCH_LIMITS = { defaultCount: 100, maxCount: 100, defaultTotal: 'none' as const };
const SIGNATURE_TYPE = { system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.1', display: "Author's Signature" };

export class ReadingReports {
  constructor(
    private readonly repo: FhirRepository,
    private readonly signer: DocumentSigner,
    private readonly assignments: ReadingAssignments,
    /** Who issues signatures (the hub's public base URL or urn:suhe:hub). */
    private readonly issuer: string,
  ) {}

  /** The study's reading reports, newest first. */
  ofStudy(study: ReportStudy): Promise<DiagnosticReport[]> {
    return this.ofStudyIn(this.repo, study);
  }

  get(id: string): Promise<DiagnosticReport> {
    return this.readIn(this.repo, id);
  }

  /** A new draft; one open draft per reader and study (a second answers 409 naming the first). */
  async createDraft(study: ReportStudy, reader: string, content: ReportContent): Promise<DiagnosticReport> {
    return this.repo.transaction(async (tx) => {
      await tx.lock(`reading-report:${study.imagingStudyId}:${reader}`);
      const open = (await this.ofStudyIn(tx, study)).find((r) => !SIGNED_STATUSES.has(r.status) && authorOf(r) === reader);
      if (open) throw new Conflict(`You already have a draft report for this study (DiagnosticReport/${open.id}); change that one`);
      return tx.create(draftReport(study, reader, content));
    });
  }

  /** Changes a draft: only its reader, only while unsigned; `ifMatch` guards against lost edits. */
  async updateDraft(id: string, reader: string, content: ReportContent, ifMatch?: string): Promise<DiagnosticReport> {
    return this.repo.transaction(async (tx) => {
      const current = await this.readIn(tx, id);
      if (SIGNED_STATUSES.has(current.status)) throw new Conflict(`DiagnosticReport/${id} is signed (${current.status}); change it by signing an amendment (POST /imaging/reports/${id}/sign with the amended text)`);
      if (authorOf(current) !== reader) throw new Forbidden('Only the reader who wrote this draft may change it');
      const { resource } = await tx.update(withContent(current, content), { ifMatch });
      return resource;
    });
  }

  /**
   * Signs the draft (→ final), or signs an amendment of a signed report (→ amended, with the
   * amended content). Answers the signed version and its Provenance.
   */
  async sign(id: string, reader: string, amendment: ReportContent | undefined, ifMatch?: string): Promise<{ report: DiagnosticReport; provenance: Provenance }> {
    return this.repo.transaction(async (tx) => {
      const current = await this.readIn(tx, id);
      if (ifMatch && ifMatch !== current.meta?.versionId) throw new Conflict(`DiagnosticReport/${id} has changed since version ${ifMatch} (now ${current.meta?.versionId}); reload it`);
      const signed = SIGNED_STATUSES.has(current.status);
      if (!signed && authorOf(current) !== reader) throw new Forbidden('Only the reader who wrote this draft may sign it');
      if (signed && !amendment) throw new Conflict(`DiagnosticReport/${id} is already signed; to amend it, sign the amended findings and impression`);
      const content = amendment ?? contentOf(current);
      if (signed && sameContent(content, contentOf(current))) throw new Invalid('The amendment changes nothing: edit the findings or the impression first');
      const now = new Date().toISOString();
      const next: DiagnosticReport = { ...withContent(current, content), status: signed ? 'amended' : 'final', issued: now, resultsInterpreter: [{ reference: reader }] };
      const { resource: report } = await tx.update(next);
      const target = `DiagnosticReport/${id}/_history/${report.meta!.versionId}`;
      const jws = this.signer.sign({ sub: reader, target, sha256: contentHash(report), iss: this.issuer });
      const provenance = await tx.create<Provenance>({
        resourceType: 'Provenance',
        target: [{ reference: target }],
        recorded: now,
        activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DocumentCompletion', code: 'LA', display: 'legally authenticated' }] },
        ...(signed ? { reason: [{ text: 'amendment' }] } : {}),
        agent: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'verifier' }] }, who: { reference: reader } }],
        signature: [{ type: [SIGNATURE_TYPE], when: now, who: { reference: reader }, targetFormat: 'application/fhir+json', sigFormat: 'application/jose', data: Buffer.from(jws).toString('base64') }],
      });
      await this.assignments.complete(tx, report, reader);
      return { report, provenance };
    });
  }

  /** Every version of the report, newest first, each signed one with its checked signature. */
  async versions(id: string): Promise<ReportVersion[]> {
    await this.get(id);
    const history = await this.repo.history({ type: 'DiagnosticReport', id, count: 100 });
    const provenances = await this.repo.search(parseSearchRequest('Provenance', [['target', `DiagnosticReport/${id}`]], this.repo.registry, SEARCH_LIMITS));
    const bySignedVersion = new Map<string, Provenance>();
    for (const p of provenances.resources as Provenance[]) {
      const target = p.target.find((t) => t.reference?.startsWith(`DiagnosticReport/${id}/_history/`))?.reference;
      if (target) bySignedVersion.set(target.split('/').pop()!, p);
    }
    return history.entries
      .filter((e) => !e.deleted)
      .map(({ resource }) => {
        const report = resource as DiagnosticReport;
        const versionId = report.meta?.versionId ?? '';
        const provenance = bySignedVersion.get(versionId);
        return {
          versionId,
          status: report.status,
          lastUpdated: report.meta?.lastUpdated,
          issued: report.issued,
          reader: authorOf(report),
          content: contentOf(report),
          ...(provenance ? { signature: this.check(provenance, report) } : {}),
        };
      });
  }

  private check(provenance: Provenance, report: DiagnosticReport): NonNullable<ReportVersion['signature']> {
    const signature = provenance.signature?.[0];
    const base = { signer: signature?.who?.reference ?? '', when: signature?.when ?? provenance.recorded };
    try {
      const claims = this.signer.verify(Buffer.from(signature?.data ?? '', 'base64').toString());
      if (claims.sha256 !== contentHash(report)) return { ...base, valid: false, problem: 'the content differs from what was signed' };
      if (claims.sub !== base.signer) return { ...base, valid: false, problem: 'the signature names another signer' };
      return { ...base, valid: true };
    } catch (err) {
      return { ...base, valid: false, problem: (err as Error).message };
    }
  }

  private async readIn(tx: FhirRepository, id: string): Promise<DiagnosticReport> {
    const report = await tx.read('DiagnosticReport', id).catch(() => undefined);
    if (!isReadingReport(report)) throw new NotFound(`No reading report ${id}`);
    return report as DiagnosticReport;
  }

  private async ofStudyIn(tx: FhirRepository, study: ReportStudy): Promise<DiagnosticReport[]> {
    const request = parseSearchRequest(
      'DiagnosticReport',
      [['imaging-study', `ImagingStudy/${study.imagingStudyId}`], ['_tag', `${READING_TAG.system}|${READING_TAG.code}`], ['_sort', '-_lastUpdated']],
      tx.registry,
      SEARCH_LIMITS,
    );
    return (await tx.search(request)).resources as DiagnosticReport[];
  }
}

/** The reader a report is by (its results interpreter). */
export function authorOf(report: Resource): string | undefined {
  return (report as DiagnosticReport).resultsInterpreter?.[0]?.reference;
}

function sameContent(a: ReportContent, b: ReportContent): boolean {
  return a.findings === b.findings && a.impression === b.impression;
}
