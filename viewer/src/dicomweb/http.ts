// Requests to the hub with the user's bearer token. Every request has a time limit (the viewer
// must never wait forever), and a 401 is retried once after renewing the token — it means the
// token was revoked or expired in flight.
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

const DEFAULT_TIMEOUT_MS = 30_000;

export class HubClient {
  constructor(readonly session: Session) {}

  async get(url: string, options: RequestOptions = {}): Promise<Response> {
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

  private async send(url: string, token: string, options: RequestOptions): Promise<Response> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const signal = options.signal ? anySignal([options.signal, timeout]) : timeout;
    try {
      return await fetch(url, { headers: { authorization: `Bearer ${token}`, ...(options.accept ? { accept: options.accept } : {}) }, signal });
    } catch (err) {
      if (timeout.aborted) throw new RequestFailed('timeout', `no answer within ${Math.round((options.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000)} s`);
      if (options.signal?.aborted) throw err;
      throw new RequestFailed('network', (err as Error).message);
    }
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
  try {
    const body = (await res.json()) as { issue?: { diagnostics?: string; details?: { text?: string } }[] };
    const issue = body.issue?.[0];
    return issue?.diagnostics ?? issue?.details?.text ?? res.statusText;
  } catch {
    return res.statusText || `HTTP ${res.status}`;
  }
}
