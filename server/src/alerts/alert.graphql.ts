import { Repeater } from 'graphql-yoga';
import type { Builder } from '../graphql/builder.js';
import { checkModel } from '../metrics/metrics.graphql.js';
import type { AlertRecord } from './alert-service.js';
import { parseWebhookBody } from './webhook-bodies.js';
import { AppError } from '../shared/app-error.js';

export const HANDLE_ALERT = /* GraphQL */ `
  mutation HandleAlert($input: AlertInput!) {
    handleAlert(input: $input) { accepted retrainJobId alerts { id model status action message } }
  }
`;

export function registerAlertSchema(builder: Builder) {
  const Alert = builder.objectRef<AlertRecord>('Alert').implement({
    description: 'An alert notification from monitoring, and what Relearn did about it.',
    fields: (t) => ({
      id: t.exposeID('id'),
      source: t.exposeString('source', { description: 'grafana or alertmanager' }),
      model: t.exposeString('model', { nullable: true }),
      alertName: t.exposeString('alertName', { nullable: true }),
      status: t.exposeString('status', { description: 'firing or resolved' }),
      fingerprint: t.exposeString('fingerprint'),
      labels: t.field({ type: 'JSON', resolve: (a) => a.labels }),
      annotations: t.field({ type: 'JSON', resolve: (a) => a.annotations }),
      startsAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.startsAt }),
      action: t.exposeString('action', { description: 'retrain-requested, duplicate, resolved or ignored' }),
      retrainJobId: t.exposeID('retrainJobId', { nullable: true }),
      message: t.exposeString('message'),
      receivedAt: t.field({ type: 'DateTime', resolve: (a) => a.receivedAt }),
    }),
  });

  const AlertItemInput = builder.inputType('AlertItemInput', {
    fields: (t) => ({
      status: t.string({ required: true, description: 'firing or resolved' }),
      fingerprint: t.string({ required: true, description: 'Stable per alert: repeats and retries share it.' }),
      labels: t.field({ type: 'JSON', required: true, description: 'Must hold `model`; `action: retrain` asks for a retrain.' }),
      annotations: t.field({ type: 'JSON' }),
      startsAt: t.string(),
      endsAt: t.string(),
    }),
  });

  const AlertInput = builder.inputType('AlertInput', {
    description: "An alert notification, as a Grafana payload template or Relearn's /webhooks/alerts sends it.",
    fields: (t) => ({
      source: t.string({ required: true, description: 'grafana or alertmanager' }),
      status: t.string({ required: true, description: 'firing or resolved' }),
      groupKey: t.string(),
      alerts: t.field({ type: [AlertItemInput], required: true }),
    }),
  });

  const HandleAlertResult = builder.objectRef<{ accepted: boolean; retrainJobId: string | null; alerts: AlertRecord[] }>('HandleAlertResult').implement({
    fields: (t) => ({
      accepted: t.exposeBoolean('accepted'),
      retrainJobId: t.exposeID('retrainJobId', { nullable: true, description: 'The retrain started (or already running) for it.' }),
      alerts: t.field({ type: [Alert], resolve: (r) => r.alerts }),
    }),
  });

  builder.mutationField('handleAlert', (t) =>
    t.field({
      type: HandleAlertResult,
      description:
        "Receives an alert from monitoring (webhook token, and Grafana's signature when configured). A firing alert labelled action=retrain starts at most one retrain of its model while it fires; resolved alerts start nothing.",
      args: { input: t.arg({ type: AlertInput, required: true }) },
      resolve: async (_, { input }, { services, webhookRefusal }) => {
        if (webhookRefusal) throw new AppError('UNAUTHENTICATED', webhookRefusal);
        if (input.source !== 'grafana' && input.source !== 'alertmanager') {
          throw AppError.badInput([{ field: 'source', reason: 'must be grafana or alertmanager' }]);
        }
        // The same validation as POST /webhooks/alerts: a bad date or field is BAD_USER_INPUT naming it.
        const parsed = parseWebhookBody(input, input.source);
        if (!parsed.ok) throw AppError.badInput(parsed.problems);
        const outcome = await services.alerts.receive(parsed.notification);
        return { accepted: true, ...outcome };
      },
    }),
  );

  builder.queryField('alerts', (t) =>
    t.field({
      type: [Alert],
      description: 'Alerts received for a model, newest first (READ).',
      args: { model: t.arg.string({ required: true }), limit: t.arg.int({ defaultValue: 50 }) },
      resolve: (_, args, ctx) => {
        const { services } = ctx;
        services.access.require(ctx, 'READ');
        checkModel(services, args.model);
        const limit = args.limit ?? 50;
        if (limit < 1 || limit > 500) throw AppError.badInput([{ field: 'limit', reason: 'must be between 1 and 500' }]);
        return services.alerts.list(args.model, limit);
      },
    }),
  );

  builder.subscriptionField('alertReceived', (t) =>
    t.field({
      type: Alert,
      description: 'Every alert received for a model, as it arrives (READ).',
      args: { model: t.arg.string({ required: true }) },
      subscribe: (_, { model }, ctx) => {
        const { services } = ctx;
        services.access.require(ctx, 'READ');
        checkModel(services, model);
        return new Repeater<AlertRecord>(async (push, stop) => {
          const received = services.events.subscribe('alertReceived');
          void stop.then(() => received.return?.());
          // Events carry the id only: the alert is read back from its row.
          for await (const { id, model: of } of received) {
            if (of !== model) continue;
            const alert = await services.alerts.get(id).catch(() => null);
            if (alert) await push(alert);
          }
        });
      },
      resolve: (alert) => alert,
    }),
  );
}
