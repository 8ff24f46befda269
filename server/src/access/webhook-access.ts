import type { SignatureCheck } from '../alerts/webhook-auth.js';
import type { Caller } from './access-control.js';

/**
 * Why a request is not an authorised alert webhook, naming the check that failed; null when it
 * is. The bearer must carry the WEBHOOK scope (the webhook token, an API key with WEBHOOK, or the
 * admin token); with WEBHOOK_HMAC_SECRET set, Grafana's signature over the raw body must verify
 * too. The same rule for POST /webhooks/alerts and for the handleAlert mutation.
 */
export function webhookRefusal(options: {
  caller: Caller;
  /** An Authorization header was sent (to say "the token given is not it" rather than "none was given"). */
  authorizationSent: boolean;
  signature: SignatureCheck | undefined;
  webhookTokenSet: boolean;
  hmacRequired: boolean;
}): string | null {
  const { caller, signature } = options;
  if (!caller.principal?.scopes.has('WEBHOOK')) {
    const what = options.webhookTokenSet ? '<WEBHOOK_TOKEN>' : '<ADMIN_TOKEN> (no WEBHOOK_TOKEN is set)';
    const how = `alert webhooks need "Authorization: Bearer ${what}" or an API key with the WEBHOOK scope`;
    if (!options.authorizationSent) return `${how}: none was given`;
    return caller.principal ? `${how}: ${caller.principal.name}'s key lacks the WEBHOOK scope` : `${how}: the token given is not it`;
  }
  if (!options.hmacRequired) return null;
  if (!signature) return "alert webhooks need Grafana's X-Grafana-Alerting-Signature (WEBHOOK_HMAC_SECRET is set)";
  return signature.ok ? null : signature.reason;
}
