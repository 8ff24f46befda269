import { parseArgs } from 'node:util';
import { API_SCOPES, type ApiScope } from './principal.js';

const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';

export const KEYS_HELP = `Usage: npm run keys -- <command> [options]

Creates, lists and revokes Relearn API keys through a running Relearn's GraphQL API (so every
change is checked, audited and reaches every process). Needs an admin credential: the
ADMIN_TOKEN, or a key with the ADMIN scope.

Commands:
  create --principal NAME --scope SCOPE [--scope SCOPE ...]
                  a new key for NAME (a service, a team, a person); prints the secret ONCE
  list            every key: id, principal, scopes, created, revoked
  revoke ID       revokes key ID at once (in every process); revoking again changes nothing

Scopes: ${API_SCOPES.join(', ')} (also --scope PREDICT,FEEDBACK)
  PREDICT predict/predictBatch · FEEDBACK submitFeedback · OUTCOMES recordOutcomes
  ADMIN keys, activations, retrains, quarantine, retractions (includes READ)
  WEBHOOK alert webhooks · READ alerts, activations, retrain jobs, the audit log

Options:
  --url URL       GraphQL endpoint (default $RELEARN_URL, else ${DEFAULT_URL})
  --token TOKEN   admin credential (default $RELEARN_TOKEN, else $ADMIN_TOKEN)
  --json          print the answer as JSON
  -h, --help      show this help

Examples:
  npm run keys -- create --principal checkout-service --scope PREDICT --scope FEEDBACK
  npm run keys -- list
  npm run keys -- revoke 3f9c0a1b2c3d4e5f
`;

export interface KeysCliIo {
  env: Record<string, string | undefined>;
  out: (text: string) => void;
  err: (text: string) => void;
  fetch?: typeof fetch;
}

interface ApiKeyRow {
  id: string;
  principal: string;
  scopes: string[];
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

const KEY_FIELDS = 'id principal scopes createdAt createdBy revokedAt';

/** Runs one `npm run keys` command; returns the exit code (0 ok, 1 refused or failed, 2 bad usage). */
export async function runKeysCli(argv: readonly string[], io: KeysCliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        principal: { type: 'string' },
        scope: { type: 'string', multiple: true },
        url: { type: 'string' },
        token: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.err(`keys: ${(error as Error).message}\nRun with --help for usage.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    (values.help ? io.out : io.err)(KEYS_HELP);
    return values.help ? 0 : 2;
  }
  const usage = (message: string) => (io.err(`keys: ${message}\nRun with --help for usage.\n`), 2);
  const url = values.url ?? io.env.RELEARN_URL ?? DEFAULT_URL;
  const token = values.token ?? io.env.RELEARN_TOKEN ?? io.env.ADMIN_TOKEN;
  if (!token) return usage('no admin credential: pass --token, or set RELEARN_TOKEN or ADMIN_TOKEN');

  const call = async <T>(query: string, variables: Record<string, unknown>): Promise<T | null> => {
    let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      const res = await (io.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      body = (await res.json()) as typeof body;
    } catch (error) {
      io.err(`keys: could not reach Relearn at ${url}: ${(error as Error).message}\n`);
      return null;
    }
    if (body.errors?.length) {
      for (const e of body.errors) io.err(`keys: ${e.extensions?.code ?? 'ERROR'}: ${e.message}\n`);
      return null;
    }
    return body.data ?? null;
  };

  switch (command) {
    case 'create': {
      if (rest.length) return usage(`create takes no positional arguments (got ${rest.join(' ')})`);
      if (!values.principal) return usage('create needs --principal NAME');
      const scopes = (values.scope ?? [])
        .flatMap((s) => s.split(','))
        .map((s) => s.trim().toUpperCase())
        .filter(Boolean);
      if (scopes.length === 0) return usage(`create needs at least one --scope (${API_SCOPES.join(', ')})`);
      const unknown = scopes.filter((s) => !API_SCOPES.includes(s as ApiScope));
      if (unknown.length) return usage(`unknown scope(s) ${unknown.join(', ')}; scopes are ${API_SCOPES.join(', ')}`);
      const data = await call<{ createApiKey: { apiKey: ApiKeyRow; key: string } }>(
        `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { ${KEY_FIELDS} } } }`,
        { input: { principal: values.principal, scopes } },
      );
      if (!data) return 1;
      const { apiKey, key } = data.createApiKey;
      if (values.json) io.out(JSON.stringify(data.createApiKey, null, 2) + '\n');
      else
        io.out(
          `Created key ${apiKey.id} for ${apiKey.principal} (${apiKey.scopes.join(', ')}).\n\n  ${key}\n\n` +
            'This is the only time the secret is shown: store it now. Send it as "Authorization: Bearer <key>".\n',
        );
      return 0;
    }
    case 'list': {
      if (rest.length) return usage(`list takes no positional arguments (got ${rest.join(' ')})`);
      const data = await call<{ apiKeys: ApiKeyRow[] }>(`{ apiKeys { ${KEY_FIELDS} } }`, {});
      if (!data) return 1;
      if (values.json) io.out(JSON.stringify(data.apiKeys, null, 2) + '\n');
      else if (data.apiKeys.length === 0) io.out('No API keys yet (npm run keys -- create --help).\n');
      else {
        const rows = data.apiKeys.map((k) => [k.id, k.principal, k.scopes.join(','), k.createdAt, k.revokedAt ? `revoked ${k.revokedAt}` : 'active']);
        const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length), ['id', 'principal', 'scopes', 'created'][i]!.length));
        const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c)).join('  ') + '\n';
        io.out(line(['id', 'principal', 'scopes', 'created', 'state']) + rows.map(line).join(''));
      }
      return 0;
    }
    case 'revoke': {
      if (rest.length !== 1) return usage('revoke needs exactly one key id (npm run keys -- list shows them)');
      const data = await call<{ revokeApiKey: ApiKeyRow }>(`mutation($id: ID!) { revokeApiKey(id: $id) { ${KEY_FIELDS} } }`, { id: rest[0] });
      if (!data) return 1;
      if (values.json) io.out(JSON.stringify(data.revokeApiKey, null, 2) + '\n');
      else io.out(`Revoked key ${data.revokeApiKey.id} of ${data.revokeApiKey.principal} (at ${data.revokeApiKey.revokedAt}).\n`);
      return 0;
    }
    default:
      return usage(`unknown command "${command}" (create, list or revoke)`);
  }
}
