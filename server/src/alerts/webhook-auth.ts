import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = { ok: true; signature: string } | { ok: false; reason: string };

/**
 * Grafana's webhook signature: lowercase hex HMAC-SHA256 of the body, or of
 * `"<timestamp>:" + body` when a timestamp header is configured. A timestamp older (or newer)
 * than `maxSkewSeconds` is refused, so a captured request cannot be replayed later.
 */
export function verifyGrafanaSignature(options: {
  secret: string;
  body: string;
  signature: string | null;
  timestamp: string | null;
  requireTimestamp?: boolean;
  maxSkewSeconds?: number;
  now?: number;
}): SignatureCheck {
  if (!options.signature) return { ok: false, reason: 'missing X-Grafana-Alerting-Signature (WEBHOOK_HMAC_SECRET is set)' };
  let signed = options.body;
  if (options.timestamp === null) {
    if (options.requireTimestamp) {
      return { ok: false, reason: 'missing X-Grafana-Alerting-Signature-Timestamp (signatures must cover a timestamp here)' };
    }
  } else {
    if (!/^\d{1,16}$/.test(options.timestamp.trim())) return { ok: false, reason: 'malformed signature timestamp: expected Unix seconds' };
    const ts = Number(options.timestamp);
    // Grafana sends Unix seconds; accept milliseconds too.
    const seconds = ts > 1e12 ? ts / 1000 : ts;
    const skew = Math.abs((options.now ?? Date.now()) / 1000 - seconds);
    const maxSkew = options.maxSkewSeconds ?? 300;
    if (skew > maxSkew) return { ok: false, reason: `stale signature timestamp: more than ${maxSkew} s from now` };
    signed = `${options.timestamp}:${options.body}`;
  }
  const expected = createHmac('sha256', options.secret).update(signed).digest('hex');
  const given = Buffer.from(options.signature.trim().toLowerCase());
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want)
    ? { ok: true, signature: expected }
    : { ok: false, reason: 'signature does not match the body (HMAC-SHA256 with WEBHOOK_HMAC_SECRET)' };
}

/**
 * Verifies Grafana signatures and refuses a signature seen within the last window, so a
 * captured request cannot be replayed while its timestamp is still fresh. Seen signatures are
 * kept for the window only and at most `maxRemembered` of them (the oldest go first; only
 * holders of the secret can add any). Per process: replicas behind a balancer each keep their own.
 */
export class GrafanaWebhookVerifier {
  private readonly seen = new Map<string, number>();
  private readonly windowMs: number;

  constructor(
    private readonly secret: string,
    private readonly options: { requireTimestamp: boolean; maxSkewSeconds?: number; maxRemembered?: number; now?: () => number },
  ) {
    this.windowMs = (options.maxSkewSeconds ?? 300) * 1000;
  }

  /** On success the signature is claimed: a second request with it is a replay until `release`. */
  verify(request: { body: string; signature: string | null; timestamp: string | null }): SignatureCheck {
    const now = this.options.now?.() ?? Date.now();
    const check = verifyGrafanaSignature({
      secret: this.secret,
      ...request,
      requireTimestamp: this.options.requireTimestamp,
      maxSkewSeconds: this.options.maxSkewSeconds ?? 300,
      now,
    });
    if (!check.ok) return check;
    this.forgetExpired(now);
    const until = this.seen.get(check.signature);
    if (until !== undefined && until > now) return { ok: false, reason: 'replayed request: this signature was already accepted' };
    // Kept for two windows: long enough to outlive a timestamp up to one window ahead of now,
    // after which the skew check refuses the request anyway.
    this.seen.set(check.signature, now + 2 * this.windowMs);
    const max = this.options.maxRemembered ?? 10_000;
    while (this.seen.size > max) this.seen.delete(this.seen.keys().next().value!);
    return check;
  }

  /** The request was not handled (a failure on this side): its sender's retry must be accepted. */
  release(signature: string): void {
    this.seen.delete(signature);
  }

  private forgetExpired(now: number): void {
    // Insertion order is expiry order (one lifetime for all), so expired ones are at the front.
    for (const [signature, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(signature);
    }
  }
}
