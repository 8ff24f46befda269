import { Repeater } from 'graphql-yoga';
import type { Builder } from '../graphql/builder.js';
import { checkModel } from '../metrics/metrics.graphql.js';
import { unstorableTextReason } from '../shared/storable-text.js';
import { RETRAIN_STATES, type RetrainTrigger } from './retrain-job.entity.js';
import type { RetrainJobRecord } from './retrain-service.js';
import { AppError } from '../shared/app-error.js';

export function registerRetrainSchema(builder: Builder) {
  const State = builder.enumType('RetrainState', {
    values: Object.fromEntries(RETRAIN_STATES.map((s) => [s, {}])) as Record<(typeof RETRAIN_STATES)[number], object>,
  });

  const Trigger = builder.objectRef<RetrainTrigger>('RetrainTrigger').implement({
    description: 'One reason a retrain was asked for.',
    fields: (t) => ({
      kind: t.exposeString('kind', { description: 'manual, feedback-count, accuracy or alert' }),
      reason: t.exposeString('reason'),
      at: t.field({ type: 'DateTime', resolve: (r) => r.at }),
    }),
  });

  const RetrainJob = builder.objectRef<RetrainJobRecord>('RetrainJob').implement({
    description: 'A retrain: why it runs, which step it is at, and what it produced.',
    fields: (t) => ({
      id: t.exposeID('id'),
      model: t.exposeString('model'),
      state: t.field({ type: State, resolve: (j) => j.state }),
      reason: t.string({ description: 'Every trigger reason, oldest first.', resolve: (j) => j.triggers.map((x) => x.reason).join('; ') }),
      triggers: t.field({ type: [Trigger], resolve: (j) => j.triggers }),
      progress: t.float({ description: '0 to 1.', resolve: (j) => Number(j.progress) }),
      version: t.exposeInt('version', { nullable: true, description: 'The model version it produced.' }),
      message: t.exposeString('message', { nullable: true, description: "The gate's numbers, or why it failed." }),
      attempts: t.exposeInt('attempts'),
      maxAttempts: t.exposeInt('maxAttempts'),
      createdAt: t.field({ type: 'DateTime', resolve: (j) => j.createdAt }),
      startedAt: t.field({ type: 'DateTime', nullable: true, resolve: (j) => j.startedAt }),
      finishedAt: t.field({ type: 'DateTime', nullable: true, resolve: (j) => j.finishedAt }),
    }),
  });

  builder.mutationField('triggerRetrain', (t) =>
    t.field({
      type: RetrainJob,
      description: 'Queues a retrain (ADMIN). While one is still queued, the reason joins it.',
      args: { model: t.arg.string({ required: true }), reason: t.arg.string() },
      resolve: async (_, args, ctx) => {
        const { services } = ctx;
        const actor = services.access.require(ctx, 'ADMIN')!;
        checkModel(services, args.model);
        const reason = args.reason?.trim() || 'manual retrain';
        const unstorable = reason.length > 1000 ? 'must be at most 1000 characters' : unstorableTextReason(reason);
        if (unstorable) throw AppError.badInput([{ field: 'reason', reason: unstorable }]);
        return (await services.retrains.request(args.model, { kind: 'manual', reason, actor: actor.name })).job;
      },
    }),
  );

  builder.queryField('retrainJobs', (t) =>
    t.field({
      type: [RetrainJob],
      description: 'Retrain jobs of a model, newest first (READ).',
      args: { model: t.arg.string({ required: true }), limit: t.arg.int({ defaultValue: 20 }) },
      resolve: (_, args, ctx) => {
        const { services } = ctx;
        services.access.require(ctx, 'READ');
        checkModel(services, args.model);
        const limit = args.limit ?? 20;
        if (limit < 1 || limit > 200) throw AppError.badInput([{ field: 'limit', reason: 'must be between 1 and 200' }]);
        return services.retrains.list(args.model, limit);
      },
    }),
  );

  builder.subscriptionField('retrainStatus', (t) =>
    t.field({
      type: RetrainJob,
      description: 'The latest retrain job of a model now (if any), then every step of every job (READ).',
      args: { model: t.arg.string({ required: true }) },
      subscribe: (_, { model }, ctx) => {
        const { services } = ctx;
        services.access.require(ctx, 'READ');
        checkModel(services, model);
        return new Repeater<RetrainJobRecord>(async (push, stop) => {
          const changes = services.events.subscribe('retrainJobChanged');
          void stop.then(() => changes.return?.());
          // The latest job now, then changes; the same state twice in a row (the first event can
          // race the initial read) is pushed once.
          let last = '';
          const pushNew = async (job: RetrainJobRecord) => {
            const key = `${job.id}:${job.state}:${job.progress}:${job.attempts}`;
            if (key !== last) await push(job);
            last = key;
          };
          const latest = await services.retrains.latest(model);
          if (latest) await pushNew(latest);
          // Events carry the step only: the job is read back, and shows the step announced
          // (a later step may already be in the row; it gets its own event).
          for await (const { id, model: of, ...step } of changes) {
            if (of !== model) continue;
            // A failed read skips this step (a database blip must not end the subscription).
            const job = await services.retrains.get(id).catch(() => null);
            if (job) await pushNew({ ...job, ...step });
          }
        });
      },
      resolve: (job) => job,
    }),
  );
}
