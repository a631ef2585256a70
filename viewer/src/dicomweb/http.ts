// Requests to the hub with the user's bearer token. Every request has a time limit (the viewer
// must never wait forever), and a 401 is retried once after renewing the token — it means the
// token was revoked or expired in flight. HttpClient is what the reading screen and the image
// loader need: this bearer client, or a share link's (share-client.ts), which has no token.
import { SessionExpired, type Session } from '../auth/session.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The request took longer than its limit, or the network failed. */
export class RequestFailed extends Error {
  constructor(
    readonly kind: 'timeout' | 'network',
    message: string,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  accept?: string;
  timeoutMs?: number;
  /** Statuses the caller handles itself (returned, not thrown). */
  allow?: number[];
  signal?: AbortSignal;
}

/** A request that changes something (the hub's own API, e.g. shares); GET otherwise. */
export interface SendOptions extends RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Sent as application/json (or `contentType`, e.g. application/fhir+json). */
  json?: unknown;
  contentType?: string;
  /** The version the change is based on (If-Match), so a concurrent change is not overwritten. */
  ifMatch?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Reads from the hub: what the reading screen, the study loader and the image loader use. */
export interface HttpClient {
  get(url: string, options?: RequestOptions): Promise<Response>;
  json<T>(url: string, options?: RequestOptions): Promise<T>;
}

export class HubClient implements HttpClient {
  constructor(readonly session: Session) {}

  get(url: string, options: RequestOptions = {}): Promise<Response> {
    return this.request(url, options);
  }

  /** Any method; a 401 means the request was not processed, so it is safe to retry once. */
  async request(url: string, options: SendOptions = {}): Promise<Response> {
    let res = await this.send(url, await this.session.accessToken(), options);
    if (res.status === 401) {
      await res.body?.cancel();
      res = await this.send(url, await this.session.renewAfterRejection(), options);
      if (res.status === 401) throw new SessionExpired('the hub refused the renewed token');
    }
    if (!res.ok && !options.allow?.includes(res.status)) throw new HttpError(res.status, await problemText(res));
    return res;
  }

  async json<T>(url: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.get(url, { accept: 'application/json', ...options });
    return (await res.json()) as T;
  }

  private send(url: string, token: string, options: SendOptions): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(options.accept ? { accept: options.accept } : {}) };
    if (options.json !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    if (options.ifMatch) headers['if-match'] = options.ifMatch;
    const body = options.json !== undefined ? JSON.stringify(options.json) : undefined;
    return timedFetch(url, { method: options.method ?? 'GET', headers, body }, options);
  }
}

/** fetch with the request's time limit; failures become RequestFailed (timeout or network). */
export async function timedFetch(url: string, init: RequestInit, options: RequestOptions): Promise<Response> {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? anySignal([options.signal, timeout]) : timeout;
  try {
    return await fetch(url, { ...init, signal });
  } catch (err) {
    if (timeout.aborted) throw new RequestFailed('timeout', `no answer within ${Math.round((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s`);
    if (options.signal?.aborted) throw err;
    throw new RequestFailed('network', (err as Error).message);
  }
}

function anySignal(signals: AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

/** The OperationOutcome's text (the hub answers every error with one), or the status text. */
async function problemText(res: Response): Promise<string> {
  return (await problemOf(res)).text;
}

/** The OperationOutcome's text and its first issue's coded reasons (details.coding). */
export async function problemOf(res: Response): Promise<{ text: string; codes: string[] }> {
  try {
    const body = (await res.json()) as { issue?: { diagnostics?: string; details?: { text?: string; coding?: { code?: string }[] } }[] };
    const issue = body.issue?.[0];
    const codes = (issue?.details?.coding ?? []).map((c) => c.code).filter((c): c is string => typeof c === 'string');
    return { text: issue?.diagnostics ?? issue?.details?.text ?? res.statusText, codes };
  } catch {
    return { text: res.statusText || `HTTP ${res.status}`, codes: [] };
  }
}
