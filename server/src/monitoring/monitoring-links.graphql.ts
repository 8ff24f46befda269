import type { Builder } from '../graphql/builder.js';
import type { MonitoringLinks } from './monitoring-links.js';

/** `monitoringLinks`: the UIs the dashboard's health strip links to (PROMETHEUS_URL, GRAFANA_URL, MLFLOW_TRACKING_URI). */
export function registerMonitoringLinksSchema(builder: Builder): void {
  const Links = builder.objectRef<MonitoringLinks>('MonitoringLinks').implement({
    description: 'The monitoring UIs of this deployment, as configured for people to open (null: not configured).',
    fields: (t) => ({
      prometheus: t.string({ nullable: true, description: 'PROMETHEUS_URL: the Prometheus UI.', resolve: (l) => l.prometheus }),
      grafana: t.string({ nullable: true, description: 'GRAFANA_URL: the Grafana UI (the relearn-overview dashboard).', resolve: (l) => l.grafana }),
      mlflow: t.string({ nullable: true, description: 'MLFLOW_TRACKING_URI: the MLflow UI (null: the embedded registry).', resolve: (l) => l.mlflow }),
    }),
  });
  builder.queryField('monitoringLinks', (t) =>
    t.field({
      type: Links,
      description: 'Where to look beside the dashboard: Prometheus, Grafana and MLflow, when configured (READ).',
      resolve: (_root, _args, ctx) => {
        ctx.services.access.require(ctx, 'READ');
        return ctx.services.monitoringLinks;
      },
    }),
  );
}
