// Sharing a study across institutions: with an Organization or a Practitioner (they read it with
// their own tokens, as if it were in their care), or as a link — a secret URL, optionally with an
// access code, always with an expiry. Only hashes of link tokens and codes are stored; a share can
// be revoked at once; too many wrong codes lock a link.
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Database, SqlExecutor } from '../db/database.js';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { Forbidden, Invalid, NotFound } from '../fhir/errors.js';

export type ShareKind = 'organization' | 'practitioner' | 'link';

export interface ShareRequest {
  studyUid: string;
  kind: ShareKind;
  /** Organization/{id} or Practitioner/{id}, for those kinds. */
  recipient?: string;
  /** Links must expire; other shares may. */
  expiresInHours?: number;
  accessCode?: string;
}

export interface Share {
  id: string;
  studyUid: string;
  kind: ShareKind;
  recipient?: string;
  createdBy: string;
  createdAt: string;
  expiresAt?: string;
  revokedAt?: string;
  hasAccessCode: boolean;
}

const MAX_LINK_HOURS = 24 * 30;
/** Share ids are UUIDs; anything else names no share (and never reaches the database). */
const SHARE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_FAILED_CODES = 10;

interface ShareRow {
  id: string;
  study_uid: string;
  kind: ShareKind;
  recipient: string | null;
  code_hash: string | null;
  failed_codes: number;
  created_by: string;
  created_at: Date | string;
  expires_at: Date | string | null;
  revoked_at: Date | string | null;
}

/** Why a share link was refused, for clients (the viewer asks for a code only when one is needed). */
export type LinkRefusal = 'code-required' | 'code-wrong' | 'locked' | 'revoked' | 'expired';
export const LINK_REFUSAL_SYSTEM = 'https://suhe.example.cn/fhir/CodeSystem/share-link-refusal';

/** 403 for a share link, its reason also in the OperationOutcome's issue.details.coding. */
export class ShareLinkRefused extends Forbidden {
  constructor(
    readonly reason: LinkRefusal,
    message: string,
  ) {
    super(message);
  }

  override toOperationOutcome(): OperationOutcome {
    const outcome = super.toOperationOutcome();
    outcome.issue[0].details = { coding: [{ system: LINK_REFUSAL_SYSTEM, code: this.reason }], text: this.message };
    return outcome;
  }
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex');
const iso = (d: Date | string | null) => (d === null ? undefined : new Date(d).toISOString());

export class ShareService {
  constructor(private readonly db: Database) {}

  /** Creates a share; for a link, also returns the secret token (shown once, never stored). */
  async create(request: ShareRequest, createdBy: string): Promise<{ share: Share; token?: string }> {
    const { kind } = request;
    if (!['organization', 'practitioner', 'link'].includes(kind)) throw new Invalid(`kind must be organization, practitioner or link, not ${JSON.stringify(kind) ?? 'missing'}`);
    for (const field of ['recipient', 'accessCode'] as const) {
      if (request[field] !== undefined && typeof request[field] !== 'string') throw new Invalid(`${field} must be a string`);
    }
    const hours = request.expiresInHours;
    if (hours !== undefined && (!Number.isFinite(hours) || hours <= 0 || hours > MAX_LINK_HOURS)) throw new Invalid(`expiresInHours must be between 0 and ${MAX_LINK_HOURS}`);
    if (kind === 'link' && hours === undefined) throw new Invalid('A link share must expire: give expiresInHours');
    const prefix = kind === 'organization' ? 'Organization/' : 'Practitioner/';
    if (kind !== 'link' && !(request.recipient?.startsWith(prefix) && /^[A-Za-z0-9\-.]{1,64}$/.test(request.recipient.slice(prefix.length)))) {
      throw new Invalid(`A share with ${kind === 'organization' ? 'an institution' : 'a practitioner'} needs recipient '${prefix}{id}'`);
    }
    if (request.accessCode !== undefined && (kind !== 'link' || !/^\S{4,64}$/.test(request.accessCode))) {
      throw new Invalid('An access code (4 to 64 characters, no spaces) is only for link shares');
    }
    const token = kind === 'link' ? randomBytes(32).toString('base64url') : undefined;
    const id = randomUUID();
    const expiresAt = hours === undefined ? null : new Date(Date.now() + hours * 3_600_000).toISOString();
    await this.db.query(
      `insert into imaging_share (id, study_uid, kind, recipient, token_hash, code_hash, created_by, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [id, request.studyUid, kind, kind === 'link' ? null : request.recipient, token ? hash(token) : null, request.accessCode ? hash(`${id}:${request.accessCode}`) : null, createdBy, expiresAt],
    );
    return { share: (await this.get(id))!, token };
  }

  async get(id: string): Promise<Share | undefined> {
    if (!SHARE_ID.test(id)) return undefined;
    const [row] = await this.db.query<ShareRow>('select * from imaging_share where id = $1', [id]);
    return row && toShare(row);
  }

  async list(studyUid: string): Promise<Share[]> {
    return (await this.db.query<ShareRow>('select * from imaging_share where study_uid = $1 order by created_at', [studyUid])).map(toShare);
  }

  async revoke(id: string): Promise<Share> {
    if (!SHARE_ID.test(id)) throw new NotFound(`No share ${id.slice(0, 40)}`);
    const rows = await this.db.query<ShareRow>('update imaging_share set revoked_at = coalesce(revoked_at, now()) where id = $1 returning *', [id]);
    if (!rows.length) throw new NotFound(`No share ${id}`);
    return toShare(rows[0]);
  }

  /** The studies shared (now) with any of these recipients. */
  async studiesSharedWith(recipients: readonly string[], db: SqlExecutor = this.db): Promise<string[]> {
    if (!recipients.length) return [];
    const rows = await db.query<{ study_uid: string }>(
      `select distinct study_uid from imaging_share
       where recipient = any($1) and revoked_at is null and (expires_at is null or expires_at > now())`,
      [recipients],
    );
    return rows.map((r) => r.study_uid);
  }

  /** The live link share a token opens; Forbidden for a wrong, missing or locked code. */
  async openLink(token: string, code: string | undefined): Promise<Share> {
    const [row] = await this.db.query<ShareRow>('select * from imaging_share where token_hash = $1', [hash(token)]);
    if (!row) throw new NotFound('This share link does not exist');
    if (row.revoked_at) throw new ShareLinkRefused('revoked', 'This share link was revoked');
    if (row.expires_at && new Date(row.expires_at) <= new Date()) throw new ShareLinkRefused('expired', 'This share link has expired');
    if (row.code_hash) {
      if (row.failed_codes >= MAX_FAILED_CODES) throw new ShareLinkRefused('locked', 'This share link is locked after too many wrong access codes; ask for a new one');
      // A request without a code guesses nothing, so only wrong codes count towards the lock
      // (a viewer opening the link first asks without one, to learn whether a code is needed).
      if (!code) throw new ShareLinkRefused('code-required', 'This share link needs its access code (X-Share-Code header or code= parameter)');
      const given = Buffer.from(hash(`${row.id}:${code}`));
      if (!timingSafeEqual(given, Buffer.from(row.code_hash))) {
        await this.db.query('update imaging_share set failed_codes = failed_codes + 1 where id = $1', [row.id]);
        throw new ShareLinkRefused('code-wrong', 'The access code is wrong');
      }
    }
    return toShare(row);
  }
}

function toShare(row: ShareRow): Share {
  return {
    id: row.id,
    studyUid: row.study_uid,
    kind: row.kind,
    recipient: row.recipient ?? undefined,
    createdBy: row.created_by,
    createdAt: iso(row.created_at)!,
    expiresAt: iso(row.expires_at),
    revokedAt: iso(row.revoked_at),
    hasAccessCode: row.code_hash !== null,
  };
}
