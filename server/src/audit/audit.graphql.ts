import { Repeater } from 'graphql-yoga';
import type { Builder } from '../graphql/builder.js';
import { AppError } from '../shared/app-error.js';
import type { AuditEntryRecord } from './audit.types.js';

const MAX_FIRST = 500;

export function registerAuditSchema(builder: Builder) {
  const AuditEntry = builder.objectRef<AuditEntryRecord>('AuditEntry').implement({
    description: 'One state change, as the append-only audit log keeps it.',
    fields: (t) => ({
      id: t.exposeID('id'),
      kind: t.exposeString('kind', {
        description:
          'api-key.created, api-key.revoked, model.activated, model.rolled-back, retrain.requested, retrain.promoted, retrain.rejected, retrain.failed, config.loaded, ...',
      }),
      actor: t.exposeString('actor'),
      model: t.exposeString('model', { nullable: true }),
      at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
      details: t.field({ type: 'JSON', resolve: (e) => e.details }),
    }),
  });

  builder.queryField('auditLog', (t) =>
    t.field({
      type: [AuditEntry],
      description: 'The audit log, newest first, filtered by model, kind, actor and time [from, to) (READ).',
      args: {
        model: t.arg.string(),
        kind: t.arg.string(),
        actor: t.arg.string(),
        from: t.arg({ type: 'DateTime' }),
        to: t.arg({ type: 'DateTime' }),
        first: t.arg.int({ defaultValue: 50 }),
      },
      resolve: (_, args, ctx) => {
        ctx.services.access.require(ctx, 'READ');
        const first = args.first ?? 50;
        if (first < 1 || first > MAX_FIRST) throw AppError.badInput([{ field: 'first', reason: `must be between 1 and ${MAX_FIRST}` }]);
        return ctx.services.audit.list({ model: args.model, kind: args.kind, actor: args.actor, from: args.from, to: args.to, first });
      },
    }),
  );

  builder.subscriptionField('auditEntryAdded', (t) =>
    t.field({
      type: AuditEntry,
      description: 'Every audit entry as it is committed, in any process (READ); optionally of one model or kind.',
      args: { model: t.arg.string(), kind: t.arg.string() },
      subscribe: (_, { model, kind }, ctx) => {
        ctx.services.access.require(ctx, 'READ');
        return new Repeater<AuditEntryRecord>(async (push, stop) => {
          const added = ctx.services.events.subscribe('auditEntryAdded');
          void stop.then(() => added.return?.());
          // Events carry ids only: the entry is read back from its row.
          for await (const e of added) {
            if ((model && e.model !== model) || (kind && e.kind !== kind)) continue;
            const entry = await ctx.services.audit.get(e.id).catch(() => null);
            if (entry) await push(entry);
          }
        });
      },
      resolve: (entry) => entry,
    }),
  );
}
