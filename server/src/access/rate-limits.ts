import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../shared/app-error.js';
import type { Principal } from './principal.js';

/** What is rate limited, per principal: predictions (each input of a batch counts), feedback, outcome rows. */
export type RateLimited = 'predictions' | 'feedback' | 'outcomes';

/** Per principal and minute; 0 = no limit. */
export type RateLimitConfig = Record<RateLimited, number>;

/**
 * Per-principal rate limits (rate-limiter-flexible, fixed one-minute windows). In memory, per
 * process: N API replicas admit up to N times the limit, which is what it is for (one client
 * cannot take a process's whole capacity); RateLimiterPostgres would make it exact at the cost of
 * a query per request. Memory is bounded by the number of principals (anonymous callers are one).
 */
export class RateLimits {
  private readonly limiters = new Map<RateLimited, RateLimiterMemory>();

  constructor(private readonly perMinute: RateLimitConfig) {
    for (const [kind, points] of Object.entries(perMinute) as [RateLimited, number][]) {
      if (points > 0) this.limiters.set(kind, new RateLimiterMemory({ keyPrefix: kind, points, duration: 60 }));
    }
  }

  /** Counts `points` of `kind` for the caller; throws RATE_LIMITED (with retryAfterSeconds) over the limit. */
  async consume(kind: RateLimited, principal: Principal | null, points = 1): Promise<void> {
    const limiter = this.limiters.get(kind);
    if (!limiter || points <= 0) return;
    const who = principal?.name ?? 'anonymous';
    const limit = this.perMinute[kind];
    if (points > limit) {
      throw AppError.badInput([
        { field: kind === 'predictions' ? 'inputs' : 'outcomes', reason: `more ${kind} in one call (${points}) than the ${limit} a minute allowed` },
      ]);
    }
    try {
      await limiter.consume(who, points);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new AppError('RATE_LIMITED', `${who} is over its limit of ${limit} ${kind} a minute; retry in ${retryAfterSeconds} s`, {
        limit: kind,
        max: limit,
        retryAfterSeconds,
      });
    }
  }
}
