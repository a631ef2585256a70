// Requests through a share link, for someone without an account: the hub's read-only DICOMweb of
// one study at <hub>/imaging/shared/{token}/dicomweb. The link is the credential, so this client
// sends no Authorization header and no cookies; a link with an access code gets it in the
// X-Share-Code header — never in the URL, where it would reach logs and the history. It only ever
// asks for addresses inside its own share, so the code cannot leak to another path.
import { HttpError, problemOf, timedFetch, type HttpClient, type RequestOptions } from './http.js';

/** Why the hub refused the link (its OperationOutcome's details.coding, see docs/IMAGING.md). */
export type ShareRefusal = 'code-required' | 'code-wrong' | 'locked' | 'revoked' | 'expired' | 'other';
const REFUSALS: readonly ShareRefusal[] = ['code-required', 'code-wrong', 'locked', 'revoked', 'expired'];

/** The hub refused a request through the link; `message` is the hub's own text. */
export class ShareLinkRefused extends HttpError {
  constructor(
    status: number,
    message: string,
    readonly reason: ShareRefusal,
  ) {
    super(status, message);
  }
}

export class ShareLinkClient implements HttpClient {
  private code: string | undefined;
  /** Until when the link works, from the hub's X-Share-Expires on its latest answer (ISO 8601). */
  expiresAt: string | undefined;

  /** `base`: the share's DICOMweb root, …/imaging/shared/{token}/dicomweb. */
  constructor(readonly base: string) {}

  /** The access code for the following requests (kept in memory only). */
  useAccessCode(code: string | undefined): void {
    this.code = code || undefined;
  }

  async get(url: string, options: RequestOptions = {}): Promise<Response> {
    if (!url.startsWith(`${this.base}/`)) throw new Error(`a share link only reads its own study, not ${url}`);
    const headers: Record<string, string> = options.accept ? { accept: options.accept } : {};
    if (this.code !== undefined) headers['x-share-code'] = this.code;
    const res = await timedFetch(url, { headers, credentials: 'omit', referrerPolicy: 'no-referrer' }, options);
    this.expiresAt = res.headers.get('x-share-expires') ?? this.expiresAt;
    if (!res.ok && !options.allow?.includes(res.status)) {
      const problem = await problemOf(res);
      const reason = res.status === 403 ? (REFUSALS.find((r) => problem.codes.includes(r)) ?? 'other') : 'other';
      throw new ShareLinkRefused(res.status, problem.text, reason);
    }
    return res;
  }

  async json<T>(url: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.get(url, { accept: 'application/json', ...options });
    return (await res.json()) as T;
  }
}
