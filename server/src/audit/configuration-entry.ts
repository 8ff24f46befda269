import type { Config } from '../config.js';
import type { NewAuditEntry } from './audit.types.js';

/** Settings that are credentials: the audit log says whether they are set, never what they are. */
const SECRETS = new Set<keyof Config>(['adminToken', 'webhookToken', 'webhookHmacSecret']);

/** A URL without its password (a DATABASE_URL may carry one). */
function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = 'redacted';
    return u.toString();
  } catch {
    return '[unparseable URL]';
  }
}

/** The `config.loaded` entry a process writes at start: its settings, secrets redacted. */
export function configurationEntry(config: Config, roles: { api: boolean; trainer: boolean }, codeVersion: string): NewAuditEntry {
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config) as [keyof Config, unknown][]) {
    if (SECRETS.has(key)) settings[key] = value === null ? null : '[redacted]';
    else if (key === 'databaseUrl' || key === 'databaseDirectUrl') settings[key] = typeof value === 'string' ? withoutPassword(value) : null;
    else if (key === 's3') settings[key] = value ? { ...(value as Config['s3'])!, accessKey: '[redacted]', secretKey: '[redacted]' } : null;
    else settings[key] = value;
  }
  return { kind: 'config.loaded', actor: 'relearn', model: null, details: { roles, codeVersion, settings } };
}
