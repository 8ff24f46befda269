import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { AppError } from '../shared/app-error.js';
import { AccessControl, WEBHOOK_PRINCIPAL, type AuthMode, type Caller } from './access-control.js';
import type { ApiKeyService } from './api-key-service.js';
import { ADMIN_PRINCIPAL, type ApiScope, type Principal } from './principal.js';
import { RateLimits } from './rate-limits.js';
import { webhookRefusal } from './webhook-access.js';

const ADMIN_TOKEN = 'admin-token-0123456789';
const WEBHOOK_TOKEN = 'webhook-token-0123456789';
const principal = (name: string, ...scopes: ApiScope[]): Principal => ({ id: name, name, scopes: new Set(scopes), keyId: name });
const caller = (p: Principal | null, authRefusal: string | null = null): Caller => ({ principal: p, authRefusal });

/** Keys are the integration tests' business (access.test.ts): here every key-shaped token is unknown. */
const noKeys = { verify: () => Promise.resolve({ ok: false as const, reason: 'unknown API key' }) } as unknown as ApiKeyService;
const sutFor = (mode: AuthMode, limits = { predictions: 0, feedback: 0, outcomes: 0 }) =>
  new AccessControl(mode, { adminToken: ADMIN_TOKEN, webhookToken: WEBHOOK_TOKEN }, noKeys, new RateLimits(limits), 3);

const refusal = (f: () => unknown): { code: string; scope?: unknown } | null => {
  try {
    f();
    return null;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { code: error.code, scope: error.details.scope };
  }
};

describe(AccessControl.name, () => {
  it('defaults to keys with a real DATABASE_URL and to open on the embedded database; AUTH_MODE overrides', () => {
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/db' }).authMode).toBe('keys');
    expect(loadConfig({}).authMode).toBe('open');
    expect(loadConfig({ DATABASE_URL: 'postgresql://u@h/db', AUTH_MODE: 'open' }).authMode).toBe('open');
    expect(loadConfig({ AUTH_MODE: 'keys' }).authMode).toBe('keys');
    expect(() => loadConfig({ AUTH_MODE: 'sometimes' })).toThrow(/AUTH_MODE/);
    expect(loadConfig({ RATE_LIMITS: 'off' }).rateLimits).toEqual({ predictions: 0, feedback: 0, outcomes: 0 });
  });

  it('knows the admin and webhook tokens; anything else that is not key-shaped is refused with a reason', async () => {
    const sut = sutFor('keys');
    expect(await sut.authenticate(null)).toEqual({ principal: null, authRefusal: null });
    expect((await sut.authenticate(`Bearer ${ADMIN_TOKEN}`)).principal).toBe(ADMIN_PRINCIPAL);
    expect((await sut.authenticate(`bearer ${WEBHOOK_TOKEN}`)).principal).toBe(WEBHOOK_PRINCIPAL);
    expect((await sut.authenticate('Basic dXNlcjpwYXNz')).authRefusal).toMatch(/Bearer/);
    expect((await sut.authenticate('Bearer admin-token-0123456780')).authRefusal).toMatch(/neither a Relearn API key/);
    expect((await sut.authenticate(`Bearer rlk_0123456789abcdef_${'a'.repeat(43)}`)).authRefusal).toMatch(/unknown API key/);
  });

  it('keys mode: UNAUTHENTICATED without credentials, FORBIDDEN without the scope (ADMIN includes READ), both naming it', () => {
    const sut = sutFor('keys');
    expect(refusal(() => sut.require(caller(null), 'PREDICT'))).toEqual({ code: 'UNAUTHENTICATED', scope: 'PREDICT' });
    expect(refusal(() => sut.require(caller(null, 'API key rlk_… was revoked'), 'PREDICT'))).toEqual({ code: 'UNAUTHENTICATED', scope: 'PREDICT' });
    expect(refusal(() => sut.require(caller(principal('shop', 'PREDICT')), 'FEEDBACK'))).toEqual({ code: 'FORBIDDEN', scope: 'FEEDBACK' });
    expect(sut.require(caller(principal('shop', 'PREDICT')), 'PREDICT')!.name).toBe('shop');
    expect(sut.require(caller(principal('ops', 'ADMIN')), 'READ')!.name).toBe('ops');
    expect(refusal(() => sut.require(caller(principal('ops', 'READ')), 'ADMIN'))).toEqual({ code: 'FORBIDDEN', scope: 'ADMIN' });
    expect(refusal(() => sut.require(caller(WEBHOOK_PRINCIPAL), 'PREDICT'))).toEqual({ code: 'FORBIDDEN', scope: 'PREDICT' });
  });

  it('open mode lets anonymous callers predict, give feedback, record outcomes and read, but not administer or send webhooks; bad keys stay refused', () => {
    const sut = sutFor('open');
    for (const scope of ['PREDICT', 'FEEDBACK', 'OUTCOMES', 'READ'] as const) expect(sut.require(caller(null), scope)).toBeNull();
    expect(refusal(() => sut.require(caller(null), 'ADMIN'))).toEqual({ code: 'UNAUTHENTICATED', scope: 'ADMIN' });
    expect(refusal(() => sut.require(caller(null), 'WEBHOOK'))).toEqual({ code: 'UNAUTHENTICATED', scope: 'WEBHOOK' });
    expect(refusal(() => sut.require(caller(principal('shop', 'PREDICT')), 'ADMIN'))).toEqual({ code: 'FORBIDDEN', scope: 'ADMIN' });
    expect(refusal(() => sut.require(caller(null, 'unknown API key'), 'PREDICT'))).toEqual({ code: 'UNAUTHENTICATED', scope: 'PREDICT' });
  });

  it('caps outcome rows per call with BAD_USER_INPUT on outcomes', () => {
    const sut = sutFor('open');
    expect(() => sut.checkOutcomeCount(3)).not.toThrow();
    expect(refusal(() => sut.checkOutcomeCount(4))).toMatchObject({ code: 'BAD_USER_INPUT' });
  });
});

describe(RateLimits.name, () => {
  it('counts per principal (anonymous callers share one budget) and says when to retry', async () => {
    const sut = new RateLimits({ predictions: 3, feedback: 0, outcomes: 0 });
    const a = principal('a', 'PREDICT');
    await sut.consume('predictions', a, 2);
    await sut.consume('predictions', a);
    const over = await sut.consume('predictions', a).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(AppError);
    expect((over as AppError).code).toBe('RATE_LIMITED');
    expect((over as AppError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((over as AppError).retryAfterSeconds).toBeLessThanOrEqual(60);
    await sut.consume('predictions', principal('b', 'PREDICT'), 3);
    await sut.consume('predictions', null, 3);
    expect(((await sut.consume('predictions', null).catch((e: unknown) => e)) as AppError).code).toBe('RATE_LIMITED');
    // A limit of 0 is no limit; a single call over the whole minute's budget is a bad input, not a wait.
    for (let i = 0; i < 100; i++) await sut.consume('feedback', a);
    expect(((await sut.consume('predictions', principal('c'), 4).catch((e: unknown) => e)) as AppError).code).toBe('BAD_USER_INPUT');
  });
});

describe('webhookRefusal', () => {
  const base = { authorizationSent: true, signature: undefined, webhookTokenSet: true, hmacRequired: false };
  it('needs the WEBHOOK scope, then a valid signature when HMAC is configured; each refusal says which check failed', () => {
    expect(webhookRefusal({ ...base, caller: caller(WEBHOOK_PRINCIPAL) })).toBeNull();
    expect(webhookRefusal({ ...base, caller: caller(ADMIN_PRINCIPAL) })).toBeNull();
    expect(webhookRefusal({ ...base, caller: caller(principal('grafana', 'WEBHOOK')) })).toBeNull();
    expect(webhookRefusal({ ...base, authorizationSent: false, caller: caller(null) })).toMatch(/none was given/);
    expect(webhookRefusal({ ...base, caller: caller(null, 'unknown API key') })).toMatch(/the token given is not it/);
    expect(webhookRefusal({ ...base, caller: caller(principal('shop', 'PREDICT')) })).toMatch(/shop's key lacks the WEBHOOK scope/);
    expect(webhookRefusal({ ...base, hmacRequired: true, caller: caller(WEBHOOK_PRINCIPAL) })).toMatch(/X-Grafana-Alerting-Signature/);
    expect(webhookRefusal({ ...base, hmacRequired: true, signature: { ok: false, reason: 'stale' }, caller: caller(WEBHOOK_PRINCIPAL) })).toBe('stale');
    expect(webhookRefusal({ ...base, hmacRequired: true, signature: { ok: true, signature: 'ab' }, caller: caller(WEBHOOK_PRINCIPAL) })).toBeNull();
  });
});
