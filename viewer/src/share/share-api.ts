// The imaging cloud's share API as the viewer uses it (docs/IMAGING.md, "Shares"): a study's
// shares listed, created and revoked with the signed-in user's token. The hub decides who may
// share (it answers 403 otherwise) and checks every value; the limits here only shape the form.
import type { HubClient } from '../dicomweb/http.js';
import type { HubLocation } from '../hub-location.js';
import { language } from '../i18n/i18n.js';

export type ShareKind = 'link' | 'organization' | 'practitioner';

export interface StudyShare {
  id: string;
  studyUid: string;
  kind: ShareKind;
  /** Organization/{id} or Practitioner/{id}. */
  recipient?: string;
  createdBy: string;
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
  hasAccessCode: boolean;
  /** Only in the answer that created a link: the shared study's DICOMweb base… */
  url?: string;
  /** …and the viewer opening it, the token in its fragment. Shown once; the hub keeps a hash. */
  viewerUrl?: string;
}

export interface NewShare {
  kind: ShareKind;
  recipient?: string;
  expiresInHours?: number;
  accessCode?: string;
}

/** The hub's longest expiry (server/src/imaging/shares.ts, MAX_LINK_HOURS: 30 days). */
export const MAX_SHARE_HOURS = 24 * 30;
export const DEFAULT_SHARE_HOURS = 72;

export class ShareApi {
  constructor(
    private readonly client: HubClient,
    private readonly hub: HubLocation,
  ) {}

  list(studyUid: string): Promise<StudyShare[]> {
    return this.client.json<StudyShare[]>(this.sharesUrl(studyUid));
  }

  async create(studyUid: string, share: NewShare): Promise<StudyShare> {
    const res = await this.client.request(this.sharesUrl(studyUid), { method: 'POST', json: share, accept: 'application/json' });
    return (await res.json()) as StudyShare;
  }

  async revoke(id: string): Promise<StudyShare> {
    const res = await this.client.request(`${this.hub.imaging}/shares/${encodeURIComponent(id)}`, { method: 'DELETE', accept: 'application/json' });
    return (await res.json()) as StudyShare;
  }

  private sharesUrl(studyUid: string): string {
    return `${this.hub.imaging}/studies/${encodeURIComponent(studyUid)}/shares`;
  }
}

/** `Organization/12` from "12" or "Organization/12"; anything else is left for the hub to refuse. */
export function recipientReference(kind: Exclude<ShareKind, 'link'>, typed: string): string {
  const value = typed.trim();
  const prefix = kind === 'organization' ? 'Organization/' : 'Practitioner/';
  return value.includes('/') ? value : `${prefix}${value}`;
}

/** A date and time in the viewer's language, e.g. for an expiry. */
export function formatWhen(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(language() === 'zh-CN' ? 'zh-CN' : 'en-GB', { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}
