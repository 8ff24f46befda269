import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GrafanaWebhookVerifier, verifyGrafanaSignature } from './webhook-auth.js';

const SECRET = 'hmac-secret-0123456789abcdef';
const sign = (payload: string) => createHmac('sha256', SECRET).update(payload).digest('hex');
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

describe(GrafanaWebhookVerifier.name, () => {
  const stamped = (body: string, at: number) => {
    const timestamp = String(Math.floor(at / 1000));
    return { body, timestamp, signature: sign(`${timestamp}:${body}`) };
  };

  it('accepts a fresh timestamped signature once, and refuses its replay inside the window', () => {
    let now = T0;
    const sut = new GrafanaWebhookVerifier(SECRET, { requireTimestamp: true, now: () => now });
    const request = stamped('{"a":1}', T0);
    expect(sut.verify(request).ok).toBe(true);
    now += 1000;
    expect(sut.verify(request)).toEqual({ ok: false, reason: expect.stringMatching(/^replayed/) });
    now = T0 + 299_000;
    expect(sut.verify(request)).toEqual({ ok: false, reason: expect.stringMatching(/^replayed/) });
    // After the window the timestamp itself is stale.
    now = T0 + 301_000;
    expect(sut.verify(request)).toEqual({ ok: false, reason: expect.stringMatching(/^stale/) });
  });

  it('accepts the retry of a request that failed on this side (released)', () => {
    const sut = new GrafanaWebhookVerifier(SECRET, { requireTimestamp: true, now: () => T0 });
    const request = stamped('{"a":2}', T0);
    const first = sut.verify(request);
    expect(first.ok).toBe(true);
    if (first.ok) sut.release(first.signature);
    expect(sut.verify(request).ok).toBe(true);
  });

  it('refuses a signature without a timestamp when one is required, and says so', () => {
    const strict = new GrafanaWebhookVerifier(SECRET, { requireTimestamp: true, now: () => T0 });
    const body = '{"a":3}';
    expect(strict.verify({ body, signature: sign(body), timestamp: null })).toEqual({
      ok: false,
      reason: expect.stringMatching(/missing X-Grafana-Alerting-Signature-Timestamp/),
    });
    const lenient = new GrafanaWebhookVerifier(SECRET, { requireTimestamp: false, now: () => T0 });
    expect(lenient.verify({ body, signature: sign(body), timestamp: null }).ok).toBe(true);
    expect(lenient.verify({ body, signature: sign(body), timestamp: null })).toEqual({ ok: false, reason: expect.stringMatching(/^replayed/) });
  });

  it('names the check that failed', () => {
    const body = '{"a":4}';
    const check = (signature: string | null, timestamp: string | null) => verifyGrafanaSignature({ secret: SECRET, body, signature, timestamp, now: T0 });
    const ts = String(T0 / 1000);
    expect(check(null, ts)).toMatchObject({ reason: expect.stringMatching(/missing X-Grafana-Alerting-Signature/) });
    expect(check('deadbeef', ts)).toMatchObject({ reason: expect.stringMatching(/does not match/) });
    expect(check(sign(`${ts}:${body}`), 'soon')).toMatchObject({ reason: expect.stringMatching(/malformed signature timestamp/) });
    expect(check(sign(`1:${body}`), '1')).toMatchObject({ reason: expect.stringMatching(/stale/) });
    expect(check(sign(`${ts}:${body}`), ts)).toMatchObject({ ok: true });
  });

  it('refuses a tampered body or timestamp and another secret; accepts upper-case hex and millisecond timestamps', () => {
    const body = '{"status":"firing"}';
    const ts = String(T0 / 1000);
    const check = (over: Partial<Parameters<typeof verifyGrafanaSignature>[0]>) =>
      verifyGrafanaSignature({ secret: SECRET, body, signature: sign(`${ts}:${body}`), timestamp: ts, now: T0, ...over });
    expect(check({}).ok).toBe(true);
    expect(check({ body: '{"status":"resolved"}' })).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    expect(check({ timestamp: String(T0 / 1000 + 1) })).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    expect(check({ secret: `${SECRET}x` })).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    // The body alone signed, while a timestamp is sent: the signature must cover the timestamp.
    expect(check({ signature: sign(body) })).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    expect(check({ signature: sign(`${ts}:${body}`).toUpperCase() }).ok).toBe(true);
    expect(check({ signature: `${sign(`${ts}:${body}`)}00` }).ok).toBe(false);
    expect(check({ timestamp: String(T0), signature: sign(`${T0}:${body}`) }).ok).toBe(true);
  });

  it('allows `maxSkewSeconds` either way of now, and not one second more', () => {
    const body = '{"a":5}';
    const at = (seconds: number) => {
      const timestamp = String(T0 / 1000 + seconds);
      return verifyGrafanaSignature({ secret: SECRET, body, signature: sign(`${timestamp}:${body}`), timestamp, now: T0, maxSkewSeconds: 60 });
    };
    expect([at(-60).ok, at(60).ok]).toEqual([true, true]);
    expect([at(-61), at(61)]).toEqual([
      { ok: false, reason: 'stale signature timestamp: more than 60 s from now' },
      { ok: false, reason: 'stale signature timestamp: more than 60 s from now' },
    ]);
  });

  it('remembers a bounded number of signatures', () => {
    const sut = new GrafanaWebhookVerifier(SECRET, { requireTimestamp: true, maxRemembered: 100, now: () => T0 });
    const requests = Array.from({ length: 150 }, (_, i) => stamped(`{"n":${i}}`, T0));
    for (const r of requests) expect(sut.verify(r).ok).toBe(true);
    expect((sut as unknown as { seen: Map<string, number> }).seen.size).toBe(100);
    // The newest are still refused as replays.
    expect(sut.verify(requests[149]!).ok).toBe(false);
  });
});
