import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Grafana's webhook signature: lowercase hex HMAC-SHA256 of the body, or of
 * `"<timestamp>:" + body` when a timestamp header is configured. A timestamp older than
 * `maxSkewSeconds` is refused, so a captured request cannot be replayed later.
 */
export function verifyGrafanaSignature(options: {
  secret: string;
  body: string;
  signature: string | null;
  timestamp: string | null;
  maxSkewSeconds?: number;
  now?: number;
}): { ok: true } | { ok: false; reason: string } {
  if (!options.signature) return { ok: false, reason: 'missing X-Grafana-Alerting-Signature' };
  let signed = options.body;
  if (options.timestamp !== null) {
    const ts = Number(options.timestamp);
    if (!Number.isFinite(ts)) return { ok: false, reason: 'malformed signature timestamp' };
    // Grafana sends Unix seconds; accept milliseconds too.
    const seconds = ts > 1e12 ? ts / 1000 : ts;
    const skew = Math.abs((options.now ?? Date.now()) / 1000 - seconds);
    if (skew > (options.maxSkewSeconds ?? 300)) return { ok: false, reason: 'signature timestamp too old or in the future' };
    signed = `${options.timestamp}:${options.body}`;
  }
  const expected = createHmac('sha256', options.secret).update(signed).digest('hex');
  const given = Buffer.from(options.signature.trim().toLowerCase());
  const want = Buffer.from(expected);
  return given.length === want.length && timingSafeEqual(given, want) ? { ok: true } : { ok: false, reason: 'signature does not match' };
}
