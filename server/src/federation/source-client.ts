// Talking to one source's FHIR server (fhir-kit-client underneath), the way a good neighbour
// does: at most `ratePerSecond` requests, each with a timeout; transient failures (network
// errors, timeouts, 429, 5xx, a body that is not JSON) retried with exponential backoff and full
// jitter, honouring Retry-After; tokens fetched (client credentials) and renewed when they expire.
import { Client } from 'fhir-kit-client';
import type { Bundle, CapabilityStatement } from '@medplum/fhirtypes';
import type { Source } from './source.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After honoured; a longer one fails the request (the next run tries again). */
  maxRetryAfterMs: number;
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 500, maxDelayMs: 15_000, maxRetryAfterMs: 60_000, timeoutMs: 30_000 };

export class SourceRequestError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(message);
  }
}

interface KitError extends Error {
  response?: { status?: number; data?: unknown };
  config?: { headers?: Headers };
}

export class SourceClient {
  private readonly client: InstanceType<typeof Client>;
  private nextSlot = 0;
  private token?: { value: string; expiresAt: number };
  private bearer?: string;
  private tokenUrl?: string;

  constructor(
    private readonly source: Source,
    private readonly secret: string | undefined,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.client = new Client({ baseUrl: source.baseUrl, customHeaders: { accept: 'application/fhir+json' } });
  }

  get baseUrl(): string {
    return this.source.baseUrl;
  }

  async capabilities(): Promise<CapabilityStatement> {
    return (await this.get('metadata')) as unknown as CapabilityStatement;
  }

  /** GET a path below the base, or an absolute URL (paging links), as a FHIR resource. */
  async get(url: string): Promise<Bundle | Record<string, unknown>> {
    return this.attempting(url, async () => (await this.client.request(url, { options: { signal: AbortSignal.timeout(this.retry.timeoutMs) } })) as unknown as Bundle);
  }

  /**
   * A GET answered as it is — bulk data's 202 while a job runs, its NDJSON files — with the same
   * limits, auth and retries as get(). `timeoutMs` bounds the whole answer (larger for files).
   */
  async raw(url: string, headers: Record<string, string> = {}, timeoutMs = this.retry.timeoutMs): Promise<Response> {
    const absolute = /^https?:\/\//.test(url) ? url : `${this.source.baseUrl}/${url.replace(/^\/+/, '')}`;
    return this.attempting(url, async () => {
      const res = await fetch(absolute, { headers: { accept: 'application/fhir+json', ...headers, ...(this.bearer ? { authorization: `Bearer ${this.bearer}` } : {}) }, signal: AbortSignal.timeout(timeoutMs) });
      if (res.status >= 400) {
        const text = await res.text();
        let data: unknown = text;
        try {
          data = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        throw Object.assign(new Error(`HTTP ${res.status}`), { response: { status: res.status, data }, config: { headers: res.headers } });
      }
      return res;
    });
  }

  /** DELETE without retries (telling a source it may drop an export's files): best effort. */
  async release(url: string): Promise<void> {
    await fetch(url, { method: 'DELETE', headers: this.bearer ? { authorization: `Bearer ${this.bearer}` } : {}, signal: AbortSignal.timeout(this.retry.timeoutMs) }).catch(() => undefined);
  }

  private async attempting<T>(url: string, request: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      await this.takeSlot();
      try {
        await this.authorise();
        return await request();
      } catch (err) {
        const failure = this.classify(err as KitError, url);
        if (failure.status === 401 && this.token) this.token = undefined; // expired or revoked: fetch a new one
        if (!failure.retryable || attempt >= this.retry.attempts) throw failure.error;
        const backoff = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        const wait = failure.retryAfterMs ?? Math.random() * backoff;
        if (wait > this.retry.maxRetryAfterMs) throw new SourceRequestError(`${failure.error.message}; the source asks to wait ${Math.round(wait / 1000)} s, longer than allowed`, failure.status);
        await this.sleep(wait);
      }
    }
  }

  private classify(err: KitError, url: string): { error: SourceRequestError; retryable: boolean; status?: number; retryAfterMs?: number } {
    const where = `${this.source.name}: GET ${shorten(url)}`;
    if (err instanceof SourceRequestError) return { error: err, retryable: err.retryable, status: err.status };
    const status = err.response?.status;
    if (status === undefined) {
      const timedOut = err.name === 'TimeoutError' || err.name === 'AbortError';
      return { error: new SourceRequestError(`${where}: ${timedOut ? `no answer within ${this.retry.timeoutMs} ms` : `cannot connect (${(err as { cause?: Error }).cause?.message ?? err.message})`}`, undefined, true), retryable: true };
    }
    if (status >= 200 && status < 300) {
      // fhir-kit-client reports a 2xx whose body is not JSON this way.
      return { error: new SourceRequestError(`${where}: the answer is not JSON`, status, true), retryable: true, status };
    }
    const retryable = status === 429 || status === 408 || status >= 500;
    const retryAfterMs = retryable ? parseRetryAfter(err.config?.headers?.get?.('retry-after') ?? null) : undefined;
    const detail = diagnostics(err.response?.data);
    return { error: new SourceRequestError(`${where}: HTTP ${status}${detail ? ` (${detail})` : ''}`, status, retryable), retryable, status, retryAfterMs };
  }

  /** Spaces requests to at most ratePerSecond. */
  private async takeSlot(): Promise<void> {
    const now = Date.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + 1000 / this.source.ratePerSecond;
    if (slot > now) await this.sleep(slot - now);
  }

  private async authorise(): Promise<void> {
    if (this.source.auth === 'none') return;
    if (this.source.auth === 'bearer') {
      this.client.bearerToken = this.bearer = this.secret ?? '';
      return;
    }
    if (this.token && this.token.expiresAt > Date.now() + 30_000) return;
    const tokenUrl = await this.tokenEndpoint();
    const res = await fetch(tokenUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(this.source.clientId ?? '')}:${encodeURIComponent(this.secret ?? '')}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: this.source.scope ?? 'system/*.rs' }).toString(),
      signal: AbortSignal.timeout(this.retry.timeoutMs),
    }).catch((err: Error) => {
      throw new SourceRequestError(`${this.source.name}: token endpoint ${tokenUrl} cannot be reached (${err.message})`, undefined, true);
    });
    const body = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error_description?: string; error?: string };
    if (!res.ok || !body.access_token) {
      throw new SourceRequestError(`${this.source.name}: the source refused a token for client '${this.source.clientId}' (HTTP ${res.status}${body.error ? `: ${body.error_description ?? body.error}` : ''}); check the client id and secret`, res.status, res.status >= 500);
    }
    this.token = { value: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 300) * 1000 };
    this.client.bearerToken = this.bearer = body.access_token;
  }

  /** From the source's SMART configuration, else `<origin>/oauth2/token`. */
  private async tokenEndpoint(): Promise<string> {
    if (this.tokenUrl) return this.tokenUrl;
    try {
      const res = await fetch(`${this.source.baseUrl}/.well-known/smart-configuration`, { signal: AbortSignal.timeout(this.retry.timeoutMs) });
      const config = (await res.json()) as { token_endpoint?: string };
      if (res.ok && config.token_endpoint) return (this.tokenUrl = config.token_endpoint);
    } catch {
      // fall through to the conventional place
    }
    return (this.tokenUrl = `${new URL(this.source.baseUrl).origin}/oauth2/token`);
  }
}

/** Retry-After as seconds or an HTTP date, in ms from now. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function diagnostics(data: unknown): string | undefined {
  if (data && typeof data === 'object' && (data as { resourceType?: string }).resourceType === 'OperationOutcome') {
    return ((data as { issue?: { diagnostics?: string }[] }).issue ?? []).map((i) => i.diagnostics).filter(Boolean).join('; ').slice(0, 200) || undefined;
  }
  return undefined;
}

function shorten(url: string): string {
  return url.length > 160 ? `${url.slice(0, 157)}...` : url;
}
