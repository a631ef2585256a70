// In-memory token buckets: enough for one process guarding login and token endpoints against
// password guessing. A cluster of hubs would need a shared store; each process limits on its own.
import type { Request, RequestHandler } from 'express';

export interface RateLimiterOptions {
  /** Burst size: requests allowed at once from a full bucket. */
  capacity: number;
  /** Sustained rate: tokens added back per second. */
  refillPerSecond: number;
  /** Milliseconds clock (tests pass a fake one). */
  now?: () => number;
  /** Buckets kept; the least recently used beyond this are forgotten so memory stays bounded. */
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly capacity: number;
  private readonly refillPerMs: number;
  private readonly now: () => number;
  private readonly maxKeys: number;
  // A Map iterates in insertion order; re-inserting on every take keeps the least recently used first.
  private readonly buckets = new Map<string, Bucket>();

  constructor(opts: RateLimiterOptions) {
    if (!(opts.capacity >= 1) || !Number.isFinite(opts.capacity)) throw new Error('capacity must be a finite number >= 1');
    if (!(opts.refillPerSecond > 0) || !Number.isFinite(opts.refillPerSecond)) throw new Error('refillPerSecond must be > 0');
    const maxKeys = opts.maxKeys ?? 10_000;
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new Error('maxKeys must be a positive integer');
    this.capacity = opts.capacity;
    this.refillPerMs = opts.refillPerSecond / 1000;
    this.now = opts.now ?? Date.now;
    this.maxKeys = maxKeys;
  }

  /** Spends one token for key if there is one; otherwise says how many whole seconds until there is. */
  take(key: string): { allowed: boolean; retryAfterSeconds: number } {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    // max(0, ...): a clock stepping backwards must not drain or overfill a bucket.
    bucket.tokens = Math.min(this.capacity, bucket.tokens + Math.max(0, now - bucket.at) * this.refillPerMs);
    bucket.at = now;
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    while (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.refillPerMs / 1000)) };
  }

  /** Buckets currently held (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }
}

export interface RateLimitOptions {
  /** Called for each refused request (audit log, metrics). */
  onLimited?: (req: Request) => void;
  /** The 429 body; default a FHIR OperationOutcome with code 'throttled'. */
  body?: (retryAfterSeconds: number) => unknown;
}

export function throttledOutcome(retryAfterSeconds: number): unknown {
  const diagnostics = `Too many requests; retry after ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}`;
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'throttled', diagnostics }] };
}

/**
 * Refuses requests over the limiter's rate with 429 and Retry-After. keyOf picks the bucket (client
 * IP, username, client_id, ...); undefined means this request is not limited.
 */
export function rateLimit(
  limiter: RateLimiter,
  keyOf: (req: Request) => string | undefined,
  options: RateLimitOptions | ((req: Request) => void) = {},
): RequestHandler {
  const { onLimited, body } = typeof options === 'function' ? { onLimited: options, body: undefined } : options;
  return (req, res, next) => {
    const key = keyOf(req);
    if (key === undefined) return next();
    const { allowed, retryAfterSeconds } = limiter.take(key);
    if (allowed) return next();
    onLimited?.(req);
    res.setHeader('Retry-After', String(retryAfterSeconds));
    const payload = body ? body(retryAfterSeconds) : throttledOutcome(retryAfterSeconds);
    res
      .status(429)
      .type(body ? 'application/json; charset=utf-8' : 'application/fhir+json; charset=utf-8')
      .send(JSON.stringify(payload));
  };
}
