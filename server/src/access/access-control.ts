import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../shared/app-error.js';
import { ApiKeyService } from './api-key-service.js';
import { ADMIN_PRINCIPAL, type ApiScope, type Principal } from './principal.js';
import type { RateLimited, RateLimits } from './rate-limits.js';

/**
 * `open`: anonymous callers may predict, give feedback, record outcomes and read operations (the
 * embedded default, for trying Relearn out); `keys`: each of those needs an API key with its scope
 * (the default with a real DATABASE_URL). Admin operations and alert webhooks always need credentials.
 */
export type AuthMode = 'open' | 'keys';

/** What `open` mode lets anonymous callers do. */
const OPEN_SCOPES: ReadonlySet<ApiScope> = new Set(['PREDICT', 'FEEDBACK', 'OUTCOMES', 'READ']);

/** The `WEBHOOK_TOKEN`: alert webhooks only. */
export const WEBHOOK_PRINCIPAL: Principal = Object.freeze({ id: 'webhook', name: 'webhook', scopes: new Set<ApiScope>(['WEBHOOK']), keyId: null });

/** Who a request is, as the transports found it (GraphQL context fields). */
export interface Caller {
  /** Null: anonymous (no credentials) or refused credentials. */
  principal: Principal | null;
  /** Why the credentials sent were refused (unknown, revoked or malformed key); null when none were sent or they are valid. */
  authRefusal: string | null;
}

export class AccessControl {
  constructor(
    readonly mode: AuthMode,
    private readonly credentials: { adminToken: string; webhookToken: string | null },
    private readonly apiKeys: ApiKeyService,
    private readonly rateLimits: RateLimits,
    /** Rows one recordOutcomes call may carry. */
    readonly maxOutcomesPerCall: number,
  ) {}

  /** The caller behind an `Authorization` header value (HTTP, or the graphql-ws connection's). */
  async authenticate(authorization: string | null | undefined): Promise<Caller> {
    if (!authorization) return { principal: null, authRefusal: null };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) return { principal: null, authRefusal: 'the Authorization header must be "Bearer <API key>"' };
    const token = match[1]!;
    if (sameToken(token, this.credentials.adminToken)) return { principal: ADMIN_PRINCIPAL, authRefusal: null };
    if (this.credentials.webhookToken !== null && sameToken(token, this.credentials.webhookToken)) return { principal: WEBHOOK_PRINCIPAL, authRefusal: null };
    if (!ApiKeyService.looksLikeKey(token))
      return { principal: null, authRefusal: 'the bearer token is neither a Relearn API key (rlk_…) nor the admin or webhook token' };
    const check = await this.apiKeys.verify(token);
    return check.ok ? { principal: check.principal, authRefusal: null } : { principal: null, authRefusal: check.reason };
  }

  /**
   * The caller, when it may use `scope`; else UNAUTHENTICATED (no or refused credentials) or
   * FORBIDDEN (valid credentials without the scope), both naming the scope. ADMIN includes READ.
   */
  require(caller: Caller, scope: ApiScope): Principal | null {
    if (caller.authRefusal !== null) throw new AppError('UNAUTHENTICATED', caller.authRefusal, { scope });
    const { principal } = caller;
    if (principal && (principal.scopes.has(scope) || (scope === 'READ' && principal.scopes.has('ADMIN')))) return principal;
    if (this.mode === 'open' && OPEN_SCOPES.has(scope)) return principal;
    if (!principal) {
      throw new AppError('UNAUTHENTICATED', `this operation needs an API key with the ${scope} scope: send "Authorization: Bearer <key>"`, { scope });
    }
    throw new AppError('FORBIDDEN', `${principal.name} may not do this: it needs the ${scope} scope (the key has ${[...principal.scopes].join(', ')})`, {
      scope,
    });
  }

  /** `require`, then counts `points` against the caller's rate limit for `limit` (RATE_LIMITED over it). */
  async admit(caller: Caller, scope: ApiScope, limit: RateLimited, points = 1): Promise<Principal | null> {
    const principal = this.require(caller, scope);
    await this.rateLimits.consume(limit, principal, points);
    return principal;
  }

  /** The outcome rows one call may carry (BAD_USER_INPUT on `outcomes` beyond). */
  checkOutcomeCount(count: number): void {
    if (count > this.maxOutcomesPerCall) {
      throw AppError.badInput([{ field: 'outcomes', reason: `at most ${this.maxOutcomesPerCall} outcomes per call (MAX_OUTCOMES_PER_CALL); got ${count}` }]);
    }
  }
}

/** Constant-time comparison of a bearer token with a configured one. */
function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
