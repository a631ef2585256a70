// Closed-loop load generation for the benchmarks: N clients each run one operation after another
// until a time box or an operation budget runs out. Nothing here knows about FHIR.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';

export interface LoadOptions {
  name: string;
  clients: number;
  /** Time box; no new operation starts after it. */
  seconds: number;
  /** Optional budget of operations (all clients together). */
  maxOps?: number;
  /** One operation; `n` counts from 0 across all clients. Throws (or rejects) on failure. */
  op: (n: number) => Promise<void>;
  /** Progress lines (about one a second); omit for a silent run such as a warm-up. */
  progress?: (line: string) => void;
}

export interface LoadResult {
  name: string;
  clients: number;
  ok: number;
  errors: number;
  seconds: number;
  /** Successful operations per second of wall time. */
  rate: number;
  p50: number;
  p99: number;
  firstError?: string;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { clients, op, maxOps = Number.POSITIVE_INFINITY } = options;
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const ticker = options.progress
    ? setInterval(() => {
        const s = (performance.now() - started) / 1000;
        options.progress!(`  [${options.name}] ${s.toFixed(1)}s ${latencies.length} ok ${errors} failed (${Math.round(latencies.length / s)}/s)`);
      }, 1000)
    : undefined;
  ticker?.unref();

  const client = async () => {
    while (next < maxOps && performance.now() < deadline) {
      const n = next++;
      const t0 = performance.now();
      try {
        await op(n);
        latencies.push(performance.now() - t0);
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: clients }, client));
  } finally {
    if (ticker) clearInterval(ticker);
  }
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    name: options.name,
    clients,
    ok: sorted.length,
    errors,
    seconds,
    rate: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    firstError,
  };
}

/** Nearest-rank percentile of an ascending array (NaN when empty). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export interface HttpInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

// node:http with a keep-alive agent rather than fetch: the load generator shares the machine's two
// cores with the hub and PostgreSQL, and undici's fetch costs about twice the CPU per request
// (measured: 0.43 vs 0.2 ms per create), which the benchmark would otherwise take from the hub.
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

let authorization: string | undefined;
/** An Authorization header sent with every request from now on (the hub needs a token). */
export function setAuthorization(value: string | undefined): void {
  authorization = value;
}

/** One HTTP call; resolves to the response (body read as text) or throws on an unexpected status. */
export function http(url: string, init: HttpInit, expected: number[]): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(authorization ? { authorization } : {}), ...init.headers };
    if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
    const req = request(url, { method: init.method ?? 'GET', headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8'); // always drained, so the connection is reused
        const status = res.statusCode ?? 0;
        if (!expected.includes(status)) {
          reject(new Error(`${init.method ?? 'GET'} ${url.replace(/\?.*/, '?…')} → ${status}: ${text.slice(0, 300)}`));
        } else {
          resolve({ status, headers: res.headers, text });
        }
      });
    });
    req.on('error', reject);
    req.end(init.body);
  });
}
