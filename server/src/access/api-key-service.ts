import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DomainEvents } from '../events/domain-events.js';
import type { EventBus } from '../events/event-bus.js';
import { AppError, type InputProblem } from '../shared/app-error.js';
import { unstorableTextReason } from '../shared/storable-text.js';
import type { ApiKeyRepository } from './api-key.repository.js';
import type { ApiKeyRecord } from './api-key.types.js';
import { API_SCOPES, type ApiScope, type Principal } from './principal.js';

/**
 * `rlk_<id>_<secret>`: the id (16 hex) is public and names the key in lists and logs; the secret
 * is 32 random bytes. Only sha-256 of the whole key is stored. A fast hash is right here, unlike
 * for passwords: with 256 random bits there is nothing to guess, and argon2/bcrypt would spend
 * ~100 ms of CPU on every request for no gain.
 */
const KEY_PATTERN = /^rlk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** Names a key may not take: the bootstrap credentials' principals and the anonymous source. */
const RESERVED_PRINCIPALS = new Set(['admin', 'anonymous', 'webhook']);

/**
 * Verified keys are remembered for this long, so a request costs no query. A revocation drops
 * the key at once in this process and, through `apiKeyRevoked`, in every other; the TTL bounds
 * what a lost NOTIFY could keep alive.
 */
const VERIFIED_TTL_MS = 30_000;
/** Bound of that memory (a key is ~200 bytes): the oldest verified key is forgotten first. */
const MAX_VERIFIED = 10_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export type KeyCheck = { ok: true; principal: Principal } | { ok: false; reason: string };

export class ApiKeyService {
  private readonly verified = new Map<string, { hash: string; principal: Principal; at: number }>();

  constructor(
    private readonly repository: ApiKeyRepository,
    private readonly events: EventBus,
    /** Told of creations and revocations (the audit log follows them). */
    private readonly domainEvents: DomainEvents,
  ) {}

  /** True when `token` has the shape of a Relearn API key (it may still be unknown or revoked). */
  static looksLikeKey(token: string): boolean {
    return KEY_PATTERN.test(token);
  }

  /** A new key for `principal`; the secret is returned here only. */
  async create(input: { principal: string; scopes: readonly ApiScope[] }, actor: string): Promise<{ apiKey: ApiKeyRecord; key: string }> {
    const principal = input.principal.trim();
    const problems: InputProblem[] = [];
    const unstorable = unstorableTextReason(principal);
    if (principal.length === 0 || principal.length > 200) problems.push({ field: 'input.principal', reason: 'must be 1 to 200 characters' });
    else if (unstorable) problems.push({ field: 'input.principal', reason: unstorable });
    else if (RESERVED_PRINCIPALS.has(principal.toLowerCase()))
      problems.push({ field: 'input.principal', reason: `"${principal}" is reserved (${[...RESERVED_PRINCIPALS].join(', ')})` });
    const scopes = [...new Set(input.scopes)].sort((a, b) => API_SCOPES.indexOf(a) - API_SCOPES.indexOf(b));
    if (scopes.length === 0) problems.push({ field: 'input.scopes', reason: `must name at least one of ${API_SCOPES.join(', ')}` });
    if (problems.length) throw AppError.badInput(problems);
    const id = randomBytes(8).toString('hex');
    const key = `rlk_${id}_${randomBytes(32).toString('base64url')}`;
    const apiKey = await this.repository.insert({ id, principal, scopes, secretHash: sha256(key), createdBy: actor });
    this.domainEvents.emit('apiKeyCreated', { keyId: id, principal, scopes, actor });
    return { apiKey, key };
  }

  /** Revokes a key at once in every process. Revoking it again returns it unchanged. */
  async revoke(id: string, actor: string): Promise<ApiKeyRecord> {
    const revoked = /^[0-9a-f]{16}$/.test(id) ? await this.repository.revoke(id, actor) : null;
    if (!revoked) throw new AppError('NOT_FOUND', `there is no API key ${id}`);
    this.forget(id);
    if (revoked.revokedNow) {
      this.events.publish('apiKeyRevoked', { id });
      this.domainEvents.emit('apiKeyRevoked', { keyId: id, principal: revoked.key.principal, actor });
    }
    return revoked.key;
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.repository.list();
  }

  /** Drops a key from the memory of verified keys (its revocation, announced by any process). */
  forget(id: string): void {
    this.verified.delete(id);
  }

  /** Who `token` (a key-shaped bearer token) belongs to, or why it is refused. */
  async verify(token: string): Promise<KeyCheck> {
    const match = KEY_PATTERN.exec(token);
    if (!match) return { ok: false, reason: 'not a Relearn API key' };
    const id = match[1]!;
    const hash = sha256(token);
    const cached = this.verified.get(id);
    if (cached && Date.now() - cached.at < VERIFIED_TTL_MS && sameHash(cached.hash, hash)) return { ok: true, principal: cached.principal };
    const stored = await this.repository.find(id);
    if (!stored || !sameHash(stored.secretHash, hash)) return { ok: false, reason: `unknown API key rlk_${id}_…` };
    if (stored.key.revokedAt) return { ok: false, reason: `API key rlk_${id}_… was revoked at ${stored.key.revokedAt.toISOString()}` };
    const principal: Principal = { id: stored.key.id, name: stored.key.principal, scopes: new Set(stored.key.scopes), keyId: stored.key.id };
    this.verified.delete(id);
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(id, { hash, principal, at: Date.now() });
    return { ok: true, principal };
  }
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}
