/**
 * Who is calling: a leaf module (no imports) so that every domain can read the caller from the
 * GraphQL context without depending on how keys are stored or checked.
 */

/** What a key may do; the GraphQL enum `ApiScope` has exactly these values. */
export const API_SCOPES = ['PREDICT', 'FEEDBACK', 'OUTCOMES', 'ADMIN', 'WEBHOOK', 'READ'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export interface Principal {
  /** Stable id of the caller: the key's id, or `admin` for the bootstrap admin token. */
  id: string;
  /** The principal the key names (a service, a team, a person); feedback records it as its source. */
  name: string;
  scopes: ReadonlySet<ApiScope>;
  /** The API key used; null for the bootstrap `ADMIN_TOKEN`. */
  keyId: string | null;
}

/** The bootstrap admin (`ADMIN_TOKEN`): every scope. */
export const ADMIN_PRINCIPAL: Principal = Object.freeze({ id: 'admin', name: 'admin', scopes: new Set<ApiScope>(API_SCOPES), keyId: null });
