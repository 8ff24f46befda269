import type { ApiScope } from './principal.js';

/** An API key as the API shows it: never its secret. */
export interface ApiKeyRecord {
  /** Public id, also the visible part of the key (`rlk_<id>_…`). */
  id: string;
  principal: string;
  scopes: ApiScope[];
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
  revokedBy: string | null;
}
