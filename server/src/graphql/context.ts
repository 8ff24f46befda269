import type { Principal } from '../access/principal.js';
import type { RequestLoaders } from './loaders.js';
import type { Services } from './services.js';

// In its own module: loaders need it too, and context imports loaders.
export type { Services } from './services.js';

export interface Context {
  services: Services;
  /** True when the caller has the ADMIN scope (the admin token, or a key with ADMIN). */
  admin: boolean;
  /**
   * The authenticated caller, or null for an anonymous one. Feedback records
   * `principal?.name ?? 'anonymous'` as its source.
   */
  principal: Principal | null;
  /**
   * Why the credentials sent were refused (unknown, revoked or malformed key), or null. Checked by
   * `services.access.require(ctx, scope)`: operations that need no scope ignore it.
   */
  authRefusal: string | null;
  /**
   * Alert webhook credentials: null when the bearer token is the webhook (or admin) token and,
   * with an HMAC secret configured, Grafana's signature over the body was verified; otherwise
   * which check failed.
   */
  webhookRefusal: string | null;
  /** Per-request batching and de-duplication of the queries resolvers make. */
  loaders: RequestLoaders;
}
