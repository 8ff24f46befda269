import type { Builder } from '../graphql/builder.js';
import type { ApiKeyRecord } from './api-key.types.js';
import { API_SCOPES } from './principal.js';

export function registerAccessSchema(builder: Builder) {
  const ApiScope = builder.enumType('ApiScope', {
    description: 'What an API key may do. READ: operational reads (alerts, activations, retrain jobs, audit); ADMIN includes it.',
    values: API_SCOPES,
  });

  const ApiKey = builder.objectRef<ApiKeyRecord>('ApiKey').implement({
    description: 'An API key: the principal it names and its scopes (never its secret).',
    fields: (t) => ({
      id: t.exposeID('id', { description: 'Public: the key reads rlk_<id>_<secret>.' }),
      principal: t.exposeString('principal', { description: 'Who uses it (a service, a team, a person): feedback records it as its source.' }),
      scopes: t.field({ type: [ApiScope], resolve: (k) => k.scopes }),
      createdBy: t.exposeString('createdBy'),
      createdAt: t.field({ type: 'DateTime', resolve: (k) => k.createdAt }),
      revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (k) => k.revokedAt }),
      revokedBy: t.exposeString('revokedBy', { nullable: true }),
    }),
  });

  const CreatedApiKey = builder.objectRef<{ apiKey: ApiKeyRecord; key: string }>('CreatedApiKey').implement({
    fields: (t) => ({
      apiKey: t.field({ type: ApiKey, resolve: (c) => c.apiKey }),
      key: t.exposeString('key', { description: 'The secret, shown this once: send it as "Authorization: Bearer <key>".' }),
    }),
  });

  const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
    fields: (t) => ({
      principal: t.string({ required: true, description: 'Who will use the key (1-200 characters; not admin, anonymous or webhook).' }),
      scopes: t.field({ type: [ApiScope], required: true }),
    }),
  });

  builder.mutationField('createApiKey', (t) =>
    t.field({
      type: CreatedApiKey,
      description: 'Creates an API key (ADMIN). The secret is in the answer only.',
      args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
      resolve: (_, { input }, ctx) => {
        const actor = ctx.services.access.require(ctx, 'ADMIN')!;
        return ctx.services.apiKeys.create(input, actor.name);
      },
    }),
  );

  builder.mutationField('revokeApiKey', (t) =>
    t.field({
      type: ApiKey,
      description: 'Revokes an API key at once, in every process (ADMIN). Revoking it again changes nothing.',
      args: { id: t.arg.id({ required: true }) },
      resolve: (_, { id }, ctx) => {
        const actor = ctx.services.access.require(ctx, 'ADMIN')!;
        return ctx.services.apiKeys.revoke(String(id), actor.name);
      },
    }),
  );

  builder.queryField('apiKeys', (t) =>
    t.field({
      type: [ApiKey],
      description: 'Every API key, revoked ones included, newest first (ADMIN).',
      resolve: (_, __, ctx) => {
        ctx.services.access.require(ctx, 'ADMIN');
        return ctx.services.apiKeys.list();
      },
    }),
  );
}
