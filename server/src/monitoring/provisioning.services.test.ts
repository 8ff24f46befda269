// The monitoring configuration in monitoring/ (Prometheus, Alertmanager, Grafana provisioning) and
// docker-compose.yml, checked against the formats those systems document, against each other (uids,
// names, mount paths), against the metrics a running Relearn exports, and end to end: a real
// Prometheus evaluates the shipped rules on a real Relearn and a real Alertmanager delivers the
// alert to Relearn's webhook. Grafana cannot run here: its payload template is executed with Go's
// text/template (monitoring/grafana/tools/render-payload.go) and the body is sent to Relearn.
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, parse as parseGraphQL, validate, type OperationDefinitionNode, type FieldNode } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  ALERTMANAGER_CONFIG,
  MONITORING_DIR,
  PROMETHEUS_CONFIG,
  amtoolCheckConfig,
  ensurePrometheusInstalled,
  promtoolCheckConfig,
  promtoolCheckRules,
  readPrometheusRules,
  renderAlertmanagerConfig,
  renderPrometheusRules,
  startAlertmanager,
  startPrometheus,
  writeLocalPrometheusConfig,
  type MonitoringServer,
} from '../../../scripts/services/prometheus.js';
import { PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const GRAFANA = path.join(MONITORING_DIR, 'grafana');
const DATASOURCE_UID = 'relearn-prometheus';
const DASHBOARD_UID = 'relearn-overview';
const WEBHOOK_TOKEN = 'monitoring-webhook-token-0123456789';
const HMAC_SECRET = 'monitoring-hmac-secret-0123456789';

type Json = any;

const readYaml = async (file: string): Promise<Json> => parseYaml(await readFile(file, 'utf8'));
const readJson = async (file: string): Promise<Json> => JSON.parse(await readFile(file, 'utf8'));

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else out.push(full);
  }
  return out.sort();
}

/**
 * Grafana's env expansion of provisioning values (pkg/services/provisioning/values): `$$` is a
 * literal `$`, `$VAR` and `${VAR}` are replaced (unset: empty). `bracedOnly` is what alert rule
 * annotations get.
 */
function grafanaExpand(value: string, env: Record<string, string>, bracedOnly = false): string {
  const re = bracedOnly ? /\$\{(\w+)\}/g : /\$\{(\w+)\}|\$(\w+)/g;
  return value
    .split('$$')
    .map((part) => part.replace(re, (_, a: string | undefined, b: string | undefined) => env[(a ?? b)!] ?? ''))
    .join('$');
}

function expandDeep(value: Json, env: Record<string, string>): Json {
  if (typeof value === 'string') return grafanaExpand(value, env);
  if (Array.isArray(value)) return value.map((v) => expandDeep(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandDeep(v, env)]));
  return value;
}

/** A Prometheus duration (e.g. 1m30s), in seconds; throws if it is not one. */
function durationSeconds(d: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  const parts = [...d.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.map((p) => p[0]).join('') !== d || parts.length === 0) throw new Error(`not a duration: ${JSON.stringify(d)}`);
  return parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan', 'atan2']);

/**
 * Metric names an expression selects: string literals, label matchers `{...}`, ranges `[...]` and
 * the label lists of by/without/on/ignoring/group_x are dropped; of the identifiers left, those
 * followed by `(` are functions or aggregations, the rest (bar keywords) are metric names.
 */
function metricNamesIn(expr: string): string[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  s = s.replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ');
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const before = s[m.index - 1];
    if (before && /[0-9.]/.test(before)) continue; // part of a number (1e3) or duration
    if (/^\s*\(/.test(s.slice(m.index + m[0].length))) continue; // a function or an aggregation
    if (PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Metric families in the text format: name -> type (from the # TYPE lines) and whether it has samples. */
function metricFamilies(text: string): Map<string, { type: string; samples: number }> {
  const families = new Map<string, { type: string; samples: number }>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) families.set(type[1]!, { type: type[2]!, samples: 0 });
  }
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
    const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, '')) ?? families.get(name.replace(/_(sum|count)$/, ''));
    if (family) family.samples++;
  }
  return families;
}

/** Whether `name` is exported: a family, or a histogram/summary's _bucket/_sum/_count series. */
function exported(families: Map<string, { type: string }>, name: string): boolean {
  if (families.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const base = m && families.get(m[1]!);
  return !!base && (base.type === 'histogram' || (base.type === 'summary' && m[2] !== 'bucket'));
}

/** Grafana's dashboard variables, replaced so Prometheus can run the expression. */
const forPrometheus = (expr: string): string =>
  expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}|\$__interval|\$\{__interval\}/g, '1m')
    .replace(/\$__range|\$\{__range\}/g, '1h')
    .replace(/\$\{?model\}?/g, '.+');

function goCommand(): string {
  for (const candidate of ['go', '/usr/local/go/bin/go']) {
    if (spawnSync(candidate, ['version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error('the Go toolchain is needed to execute the Grafana payload template (Go text/template), as for building MinIO: none found');
}

/** The body Grafana 12 sends for `data`: its custom payload template executed by Go's text/template. */
function renderGrafanaPayload(templates: string[], payload: string, data: Json): string {
  const result = spawnSync(goCommand(), ['run', 'render-payload.go'], {
    cwd: path.join(GRAFANA, 'tools'),
    input: JSON.stringify({ templates, payload, data }),
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`render-payload.go failed (${result.status}): ${result.stderr}${result.error?.message ?? ''}`);
  return result.stdout;
}

describe('metricNamesIn', () => {
  it('finds metric names, not functions, labels, keywords, durations or variables', () => {
    expect(metricNamesIn('histogram_quantile(0.95, sum by (le, model) (rate(a_seconds_bucket{model=~"$model"}[$__rate_interval])))')).toEqual([
      'a_seconds_bucket',
    ]);
    expect(metricNamesIn('max by (model) (x) < on(model) max by (model) (y) and on(model) z >= bool w offset 5m')).toEqual(['x', 'y', 'z', 'w']);
    expect(metricNamesIn('time() - max(last_seen{job="a b"}) > 3600 unless sum(rate(c_total[1h])) by (job)')).toEqual(['last_seen', 'c_total']);
  });
});

describe('monitoring configuration', () => {
  const files: Record<string, Json> = {};
  let sut: TestApp;
  let families: Map<string, { type: string; samples: number }>;
  const work: string[] = [];

  beforeAll(async () => {
    // Every YAML/JSON file in monitoring/ parses.
    for (const file of await walk(MONITORING_DIR)) {
      const rel = path.relative(MONITORING_DIR, file);
      if (/\.ya?ml$/.test(file)) files[rel] = await readYaml(file);
      else if (file.endsWith('.json')) files[rel] = await readJson(file);
    }
    // Installing Prometheus (apt-get, the first time) overlaps Relearn's start.
    const [app] = await Promise.all([
      startTestApp({ env: { WEBHOOK_TOKEN, WEBHOOK_HMAC_SECRET: HMAC_SECRET, TRAINER: 'off', ONLINE_LEARNING: 'off' } }),
      ensurePrometheusInstalled(),
    ]);
    sut = app;
    // A prediction and a feedback, so the labelled series exist.
    const p = await sut.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    expect(p.errors).toBeUndefined();
    const f = await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, correct: true } });
    expect(f.errors).toBeUndefined();
    const res = await fetch(`${sut.url}/metrics`);
    expect(res.status).toBe(200);
    families = metricFamilies(await res.text());
  });

  afterAll(async () => {
    await sut?.stop();
    await Promise.all(work.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(path.join(tmpdir(), 'relearn-monitoring-'));
    work.push(dir);
    return dir;
  };

  // --- What expressions use --------------------------------------------------------------------

  const dashboard = (): Json => files['grafana/dashboards/relearn.json'];
  const grafanaRules = (): Json[] => files['grafana/provisioning/alerting/rules.yaml'].groups.flatMap((g: Json) => g.rules);
  const dashboardExprs = (): { panel: string; expr: string }[] =>
    dashboard().panels.flatMap((p: Json) => (p.targets ?? []).map((t: Json) => ({ panel: p.title, expr: t.expr as string })));
  const grafanaRuleExprs = (): { rule: string; expr: string }[] =>
    grafanaRules().flatMap((r: Json) =>
      r.data.filter((d: Json) => d.datasourceUid !== '__expr__').map((d: Json) => ({ rule: r.uid, expr: d.model.expr as string })),
    );
  const prometheusRuleExprs = (): { rule: string; expr: string }[] =>
    Object.entries(files)
      .filter(([rel]) => rel.startsWith('prometheus/rules/'))
      .flatMap(([, f]) => f.groups.flatMap((g: Json) => g.rules.map((r: Json) => ({ rule: r.alert ?? r.record, expr: r.expr as string }))));

  it('every metric the dashboard, the Grafana rule and the Prometheus rules use is on a running Relearn /metrics', () => {
    const used = new Map<string, string[]>();
    const note = (where: string, expr: string) => {
      const names = metricNamesIn(expr);
      expect(names.length, `${where}: no metric found in ${expr}`).toBeGreaterThan(0);
      for (const n of names) used.set(n, [...(used.get(n) ?? []), where]);
    };
    for (const { panel, expr } of dashboardExprs()) note(`dashboard panel "${panel}"`, expr);
    for (const { rule, expr } of grafanaRuleExprs()) note(`Grafana rule ${rule}`, expr);
    for (const { rule, expr } of prometheusRuleExprs()) note(`Prometheus rule ${rule}`, expr);
    for (const v of dashboard().templating.list) {
      const m = /label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(v.definition ?? v.query?.query ?? '');
      if (m) used.set(m[1]!, [...(used.get(m[1]!) ?? []), `dashboard variable ${v.name}`]);
    }
    const missing = [...used].filter(([name]) => !exported(families, name)).map(([name, where]) => `${name} (${where.join(', ')})`);
    expect(missing, 'metrics used but not exported').toEqual([]);
    // The metrics this issue is about are all shown somewhere.
    for (const name of [
      'model_accuracy',
      'model_precision',
      'model_recall',
      'model_f1_score',
      'true_positives_total',
      'true_negatives_total',
      'false_positives_total',
      'false_negatives_total',
      'relearn_predictions_total',
      'relearn_feedback_total',
      'relearn_predict_duration_seconds_bucket',
      'relearn_retrains_total',
      'relearn_retrain_duration_seconds_bucket',
      'relearn_model_live_version',
      'relearn_model_window_accuracy',
      'relearn_model_accuracy_threshold',
      'relearn_model_window_feedback',
      'relearn_model_min_samples',
      'relearn_last_feedback_timestamp_seconds',
    ]) {
      expect(used.has(name), `${name} is used`).toBe(true);
    }
    // ... and the labelled series exist after a prediction and a feedback.
    for (const name of [
      'model_accuracy',
      'true_positives_total',
      'relearn_predictions_total',
      'relearn_feedback_total',
      'relearn_predict_duration_seconds',
      'relearn_model_window_accuracy',
    ]) {
      expect(families.get(name)?.samples, `${name} has samples`).toBeGreaterThan(0);
    }
  });

  // --- Prometheus --------------------------------------------------------------------------------

  it('prometheus.yml scrapes the API and the trainer, loads the rule files and sends to Alertmanager; promtool accepts it', async () => {
    const config = files['prometheus/prometheus.yml'];
    const jobs = Object.fromEntries(config.scrape_configs.map((j: Json) => [j.job_name, j]));
    expect(jobs['relearn-api'].dns_sd_configs[0]).toMatchObject({ names: ['api'], type: 'A', port: 4000 });
    expect(jobs['relearn-trainer'].static_configs[0].targets).toEqual(['trainer:4100']);
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['alertmanager:9093']);
    expect(config.rule_files).toEqual(['rules/*.yml']);
    const ruleFiles = (await readdir(path.join(MONITORING_DIR, 'prometheus', 'rules'))).filter((f) => f.endsWith('.yml'));
    expect(ruleFiles.length).toBeGreaterThan(0);
    const out = await promtoolCheckConfig(PROMETHEUS_CONFIG);
    expect(out).toMatch(new RegExp(`SUCCESS: ${ruleFiles.length} rule files found`));
  });

  it('the rules are valid alerting rules (promtool too) with severity, summary and description', async () => {
    const ruleFiles = await readPrometheusRules();
    await promtoolCheckRules(ruleFiles.map((f) => f.file));
    const rules = Object.fromEntries(ruleFiles.flatMap((f) => f.groups.flatMap((g) => g.rules)).map((r) => [r.alert ?? r.record ?? '', r]));
    for (const rule of Object.values(rules)) {
      expect(rule.alert).toMatch(/^Relearn[A-Za-z]+$/);
      expect(() => durationSeconds(rule.for ?? '0s')).not.toThrow();
      expect(rule.labels?.severity).toMatch(/^(info|warning|critical)$/);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description).toBeTruthy();
    }
    const low = rules.RelearnModelAccuracyLow!;
    expect(low.for).toBe('2m');
    expect(low.labels).toMatchObject({ severity: 'warning', action: 'retrain' });
    expect(low.annotations!.summary).toContain('$value');
    expect(low.annotations!.summary).toContain('$labels.model');
    for (const m of ['relearn_model_window_accuracy', 'relearn_model_accuracy_threshold', 'relearn_model_window_feedback', 'relearn_model_min_samples']) {
      expect(metricNamesIn(low.expr)).toContain(m);
    }
    expect(rules.RelearnFeedbackStale).toMatchObject({ for: '10m' });
    expect(rules.RelearnFeedbackStale!.expr).toMatch(/time\(\) - .*relearn_last_feedback_timestamp_seconds.*> 3600/);
  });

  it('rendered rules are the committed rules with only `for` changed', async () => {
    const dir = await tempDir();
    const rendered = await renderPrometheusRules(dir, { forOverride: '1s' });
    const committed = await readPrometheusRules();
    expect(rendered.map((f) => path.basename(f))).toEqual(committed.map((f) => path.basename(f.file)));
    const again = await readPrometheusRules(dir);
    const strip = (files: typeof committed) => files.map((f) => f.groups.map((g) => ({ ...g, rules: g.rules.map(({ for: _, ...r }) => r) })));
    expect(strip(again)).toEqual(strip(committed));
    for (const r of again.flatMap((f) => f.groups.flatMap((g) => g.rules))) expect(r.for).toBe('1s');
  });

  // --- Alertmanager ------------------------------------------------------------------------------

  it('alertmanager.yml groups by alertname and model and posts to /webhooks/alerts with a bearer token (amtool accepts it)', async () => {
    const config = files['alertmanager/alertmanager.yml'];
    expect(config.route.group_by).toEqual(expect.arrayContaining(['alertname', 'model']));
    expect(durationSeconds(config.route.group_wait)).toBeLessThanOrEqual(30);
    const receiver = config.receivers.find((r: Json) => r.name === config.route.receiver);
    const webhook = receiver.webhook_configs[0];
    expect(webhook.url).toBe('http://api:4000/webhooks/alerts');
    expect(webhook.send_resolved).toBe(true);
    expect(webhook.http_config.authorization.type).toBe('Bearer');
    expect(webhook.http_config.authorization.credentials_file ?? webhook.http_config.authorization.credentials).toBeTruthy();
    await amtoolCheckConfig(ALERTMANAGER_CONFIG);
    const dir = await tempDir();
    const rendered = path.join(dir, 'alertmanager.yml');
    await writeFile(rendered, await renderAlertmanagerConfig({ webhookUrl: 'http://127.0.0.1:4000/webhooks/alerts', token: WEBHOOK_TOKEN, groupWait: '1s' }));
    await amtoolCheckConfig(rendered);
    const local = await readYaml(rendered);
    expect(local.route).toEqual({ ...config.route, group_wait: '1s' });
    expect(local.receivers[0].webhook_configs[0].http_config.authorization).toEqual({ type: 'Bearer', credentials: WEBHOOK_TOKEN });
  });

  // --- Grafana -----------------------------------------------------------------------------------

  it('the data source has the uid the dashboard and the alert rule use', () => {
    const file = files['grafana/provisioning/datasources/prometheus.yaml'];
    expect(file.apiVersion).toBe(1);
    const ds = file.datasources.find((d: Json) => d.uid === DATASOURCE_UID);
    expect(ds).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    for (const p of dashboard().panels) {
      expect(p.datasource, `panel ${p.title}`).toEqual({ type: 'prometheus', uid: DATASOURCE_UID });
      for (const t of p.targets) expect(t.datasource?.uid ?? p.datasource.uid).toBe(DATASOURCE_UID);
    }
    for (const v of dashboard().templating.list) if (v.type === 'query') expect(v.datasource.uid).toBe(DATASOURCE_UID);
    for (const r of grafanaRules()) {
      for (const d of r.data) expect([DATASOURCE_UID, '__expr__']).toContain(d.datasourceUid);
    }
  });

  it('the dashboard provider loads the dashboard directory compose mounts; the dashboard has a stable uid, no id, a model variable', () => {
    const provider = files['grafana/provisioning/dashboards/relearn.yaml'];
    expect(provider.apiVersion).toBe(1);
    expect(provider.providers[0]).toMatchObject({ type: 'file' });
    const d = dashboard();
    expect(d.uid).toBe(DASHBOARD_UID);
    expect('id' in d).toBe(false);
    expect(d.title).toBeTruthy();
    const model = d.templating.list.find((v: Json) => v.name === 'model');
    expect(model).toMatchObject({ type: 'query', multi: true, includeAll: true });
    const ids = d.panels.map((p: Json) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      expect(new Set(p.targets.map((t: Json) => t.refId)).size).toBe(p.targets.length);
      for (const t of p.targets) {
        // Every query follows the model variable.
        expect(t.expr, `${p.title}: ${t.expr}`).toContain('model=~"$model"');
      }
    }
    const exprs = dashboardExprs()
      .map((e) => e.expr)
      .join('\n');
    expect(exprs).toMatch(/histogram_quantile\(0\.5, .*relearn_predict_duration_seconds_bucket/);
    expect(exprs).toMatch(/histogram_quantile\(0\.95, .*relearn_predict_duration_seconds_bucket/);
    expect(exprs).toMatch(/histogram_quantile\(0\.99, .*relearn_predict_duration_seconds_bucket/);
    expect(exprs).toMatch(/rate\(relearn_predictions_total\{/);
  });

  it('the Grafana alert rule: uid, title, condition C over A (PromQL) -> B (reduce) -> C (threshold), for, labels, noDataState OK', () => {
    const file = files['grafana/provisioning/alerting/rules.yaml'];
    expect(file.apiVersion).toBe(1);
    for (const g of file.groups) {
      expect(g.name && g.folder).toBeTruthy();
      expect(() => durationSeconds(g.interval)).not.toThrow();
    }
    const rule = grafanaRules().find((r) => r.uid === 'relearn-accuracy-low');
    expect(rule).toBeDefined();
    expect(rule.title).toBeTruthy();
    expect(rule.condition).toBe('C');
    const byRef = Object.fromEntries(rule.data.map((d: Json) => [d.refId, d]));
    expect(Object.keys(byRef).sort()).toEqual(['A', 'B', 'C']);
    expect(byRef.A.datasourceUid).toBe(DATASOURCE_UID);
    expect(byRef.A.model.expr).toBeTruthy();
    expect(byRef.A.relativeTimeRange.from).toBeGreaterThan(0);
    expect(byRef.B).toMatchObject({ datasourceUid: '__expr__', model: { type: 'reduce', expression: 'A', reducer: 'last' } });
    expect(byRef.C).toMatchObject({ datasourceUid: '__expr__', model: { type: 'threshold', expression: 'B' } });
    expect(byRef.C.model.conditions).toHaveLength(1);
    const evaluator = byRef.C.model.conditions[0].evaluator;
    expect(['gt', 'lt', 'within_range', 'outside_range']).toContain(evaluator.type);
    expect(evaluator.params.every((x: unknown) => typeof x === 'number')).toBe(true);
    for (const d of rule.data) expect(d.model.refId).toBe(d.refId);
    expect(durationSeconds(rule.for)).toBe(120);
    expect(rule.noDataState).toBe('OK');
    expect(['Error', 'Alerting', 'OK', 'KeepLast']).toContain(rule.execErrState);
    expect(rule.labels).toMatchObject({ severity: 'warning', team: 'relearn', action: 'retrain' });
    expect(rule.labels.model).toBeDefined();
    expect(rule.dashboardUid).toBe(DASHBOARD_UID);
    expect(dashboard().panels.some((p: Json) => p.id === rule.panelId)).toBe(true);
    // Grafana env-expands labels fully and annotations' ${x}: nothing of them may be eaten.
    for (const [k, v] of Object.entries(rule.labels as Record<string, string>)) expect(grafanaExpand(v, {}), `label ${k}`).toBe(v);
    for (const [k, v] of Object.entries(rule.annotations as Record<string, string>)) expect(grafanaExpand(v, {}, true), `annotation ${k}`).toBe(v);
  });

  it('notification policy routes the rule to the webhook contact point', () => {
    const file = files['grafana/provisioning/alerting/policies.yaml'];
    const contactPoints = files['grafana/provisioning/alerting/contact-points.yaml'].contactPoints.map((c: Json) => c.name);
    const root = file.policies[0];
    expect(contactPoints).toContain(root.receiver);
    const rule = grafanaRules().find((r) => r.uid === 'relearn-accuracy-low');
    const matches = (route: Json) =>
      (route.object_matchers ?? []).every(([label, op, value]: [string, string, string]) => op === '=' && rule.labels[label] === value);
    const route = root.routes.find(matches);
    expect(route).toBeDefined();
    expect(route.receiver).toBe('relearn-webhook');
    expect(route.group_by).toEqual(expect.arrayContaining(['alertname', 'model']));
    expect(expandDeep(file, {})).toEqual(file);
  });

  it('the contact point: webhook to /graphql with bearer auth, HMAC and a payload template, env-expanded', () => {
    const file = files['grafana/provisioning/alerting/contact-points.yaml'];
    expect(file.apiVersion).toBe(1);
    const receiver = file.contactPoints.find((c: Json) => c.name === 'relearn-webhook').receivers[0];
    expect(receiver).toMatchObject({ uid: 'relearn-webhook', type: 'webhook' });
    const settings = expandDeep(receiver.settings, { WEBHOOK_TOKEN, WEBHOOK_HMAC_SECRET: HMAC_SECRET });
    expect(settings).toMatchObject({
      url: 'http://api:4000/graphql',
      httpMethod: 'POST',
      authorization_scheme: 'Bearer',
      authorization_credentials: WEBHOOK_TOKEN,
      hmacConfig: { secret: HMAC_SECRET, timestampHeader: 'X-Grafana-Alerting-Signature-Timestamp' },
    });
    // Relearn reads these two headers (server/src/http/http-server.ts).
    expect(settings.hmacConfig.header ?? 'X-Grafana-Alerting-Signature').toBe('X-Grafana-Alerting-Signature');
    // The payload template survives the expansion and calls a provisioned template.
    expect(settings.payload.template).toBe(receiver.settings.payload.template);
    const called = /\{\{-?\s*template\s+"([^"]+)"\s+\.\s*-?\}\}/.exec(settings.payload.template)?.[1];
    const defined = files['grafana/provisioning/alerting/templates.yaml'].templates.map((t: Json) => t.template).join('\n');
    expect(defined).toContain(`define "${called}"`);
  });

  it('the payload template renders the handleAlert mutation Relearn accepts, and Relearn takes the signed request', async () => {
    const file = files['grafana/provisioning/alerting/templates.yaml'];
    expect(file.apiVersion).toBe(1);
    const templates = file.templates.map((t: Json) => t.template as string);
    const payload = files['grafana/provisioning/alerting/contact-points.yaml'].contactPoints[0].receivers[0].settings.payload.template;
    const alert = (status: string, fingerprint: string) => ({
      status,
      labels: { alertname: 'Relearn model accuracy low', grafana_folder: 'Relearn', model: 'spam', severity: 'warning', team: 'relearn', action: 'retrain' },
      annotations: { summary: 'spam: live accuracy is below its threshold', description: 'a "quoted" <value> & more' },
      startsAt: '2026-01-02T03:04:05.123Z',
      endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2026-01-02T04:00:00Z',
      generatorURL: 'http://grafana:3000/alerting/grafana/relearn-accuracy-low/view',
      fingerprint,
      values: { B: -0.2, C: 1 },
      valueString: "[ var='B' labels={model=spam} value=-0.2 ]",
    });
    const data = (status: string) => ({
      receiver: 'relearn-webhook',
      status,
      alerts: [alert(status, 'grafana-fp-1')],
      groupLabels: { alertname: 'Relearn model accuracy low', model: 'spam' },
      commonLabels: { model: 'spam' },
      commonAnnotations: {},
      externalURL: 'http://grafana:3000/',
      groupKey: '{}/{team="relearn"}:{alertname="Relearn model accuracy low", model="spam"}',
    });
    const body = renderGrafanaPayload(templates, payload, data('firing'));
    const request = JSON.parse(body);
    expect(Object.keys(request).sort()).toEqual(['query', 'variables']);
    expect(request.query).toBe('mutation HandleAlert($input: AlertInput!) { handleAlert(input: $input) { accepted retrainJobId } }');
    const doc = parseGraphQL(request.query);
    const op = doc.definitions[0] as OperationDefinitionNode;
    expect(op.operation).toBe('mutation');
    expect((op.selectionSet.selections[0] as FieldNode).name.value).toBe('handleAlert');
    expect(request.variables.input).toEqual({
      source: 'grafana',
      status: 'firing',
      groupKey: data('firing').groupKey,
      alerts: [
        {
          status: 'firing',
          fingerprint: 'grafana-fp-1',
          labels: alert('firing', '').labels,
          annotations: alert('firing', '').annotations,
          startsAt: '2026-01-02T03:04:05.123Z',
          endsAt: '0001-01-01T00:00:00Z',
        },
      ],
    });
    // Valid against Relearn's published schema ...
    const schema = buildSchema(await readFile(path.join(ROOT, 'schema', 'schema.graphql'), 'utf8'));
    expect(validate(schema, doc).map((e) => e.message)).toEqual([]);
    // ... and taken by a running Relearn, signed the way Grafana signs it.
    const send = async (raw: string) => {
      const ts = String(Math.floor(Date.now() / 1000));
      const res = await fetch(`${sut.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${WEBHOOK_TOKEN}`,
          'x-grafana-alerting-signature-timestamp': ts,
          'x-grafana-alerting-signature': createHmac('sha256', HMAC_SECRET).update(`${ts}:${raw}`).digest('hex'),
        },
        body: raw,
      });
      return (await res.json()) as Json;
    };
    const fired = await send(body);
    expect(fired.errors).toBeUndefined();
    expect(fired.data.handleAlert.accepted).toBe(true);
    expect(fired.data.handleAlert.retrainJobId).toBeTruthy();
    const resolved = await send(renderGrafanaPayload(templates, payload, data('resolved')));
    expect(resolved.errors).toBeUndefined();
    const recorded = (await sut.gql(`{ alerts(model: "spam") { source status action fingerprint } }`)).data.alerts;
    expect(recorded).toEqual([
      { source: 'grafana', status: 'resolved', action: 'resolved', fingerprint: 'grafana-fp-1' },
      { source: 'grafana', status: 'firing', action: 'retrain-requested', fingerprint: 'grafana-fp-1' },
    ]);
  });

  // --- docker-compose.yml ------------------------------------------------------------------------

  it('docker-compose.yml runs Prometheus, Alertmanager and Grafana on the files in monitoring/', async () => {
    const compose = await readYaml(path.join(ROOT, 'docker-compose.yml'));
    const { postgres, prometheus, alertmanager, grafana } = compose.services;
    expect(postgres).toBeDefined();
    const mounts = (service: Json): Record<string, string> =>
      Object.fromEntries(
        service.volumes
          .filter((v: string) => v.startsWith('./'))
          .map((v: string) => {
            const [host, container] = v.split(':');
            expect(existsSync(path.join(ROOT, host!)), `${host} exists`).toBe(true);
            return [container, host];
          }),
      );
    expect(prometheus.image).toMatch(/^prom\/prometheus:/);
    expect(mounts(prometheus)['/etc/prometheus']).toBe('./monitoring/prometheus');
    expect(prometheus.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(alertmanager.image).toMatch(/^prom\/alertmanager:/);
    expect(mounts(alertmanager)['/etc/alertmanager']).toBe('./monitoring/alertmanager');
    // The token file the configuration names is written from WEBHOOK_TOKEN at start.
    const tokenFile = files['alertmanager/alertmanager.yml'].receivers[0].webhook_configs[0].http_config.authorization.credentials_file;
    expect(alertmanager.command.join(' ')).toContain(`> ${tokenFile}`);
    expect(alertmanager.command.join(' ')).toContain('--config.file=/etc/alertmanager/alertmanager.yml');
    expect(alertmanager.environment.WEBHOOK_TOKEN).toMatch(/^\$\{WEBHOOK_TOKEN:-.{16,}\}$/);
    expect(grafana.image).toMatch(/^grafana\/grafana:12\./);
    const g = mounts(grafana);
    expect(g['/etc/grafana/provisioning']).toBe('./monitoring/grafana/provisioning');
    expect(g[files['grafana/provisioning/dashboards/relearn.yaml'].providers[0].options.path]).toBe('./monitoring/grafana/dashboards');
    expect(grafana.environment.WEBHOOK_TOKEN).toMatch(/^\$\{WEBHOOK_TOKEN:-.{16,}\}$/);
    expect(grafana.environment.WEBHOOK_HMAC_SECRET).toMatch(/^\$\{WEBHOOK_HMAC_SECRET:-.{16,}\}$/);
    expect(grafana.ports).toContain('127.0.0.1:3000:3000');
  });

  // --- End to end --------------------------------------------------------------------------------

  describe('with a real Prometheus and Alertmanager', () => {
    let prometheus: MonitoringServer;
    let alertmanager: MonitoringServer;
    // A Relearn of its own, without WEBHOOK_HMAC_SECRET: Alertmanager cannot sign its posts, and
    // Relearn refuses unsigned alert webhooks when the secret is set.
    let app: TestApp;

    beforeAll(async () => {
      app = await startTestApp({ env: { WEBHOOK_TOKEN, TRAINER: 'off', ONLINE_LEARNING: 'off' } });
      const dir = await tempDir();
      const amConfig = path.join(dir, 'alertmanager.yml');
      await writeFile(
        amConfig,
        await renderAlertmanagerConfig({
          webhookUrl: `${app.url}/webhooks/alerts`,
          token: WEBHOOK_TOKEN,
          groupWait: '1s',
          groupInterval: '1s',
          repeatInterval: '1s',
        }),
      );
      alertmanager = await startAlertmanager({ config: amConfig, dataDir: path.join(dir, 'alertmanager') });
      // The same Relearn scraped as API and as trainer: both export the quality gauges, and the
      // rules must cope with that (one series per model after aggregation).
      const target = new URL(app.url).host;
      const config = await writeLocalPrometheusConfig({
        dir,
        apiTarget: target,
        trainerTarget: target,
        alertmanager: new URL(alertmanager.url).host,
        interval: '1s',
        forOverride: '1s',
      });
      prometheus = await startPrometheus({ config, dataDir: path.join(dir, 'prometheus') });
    });

    afterAll(async () => {
      await prometheus?.stop();
      await alertmanager?.stop();
      await app?.stop();
    });

    const query = async (expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const json = (await res.json()) as Json;
      if (json.status !== 'success') throw new Error(`${expr}: ${json.errorType}: ${json.error}`);
      return json.data.result;
    };

    const waitFor = async <T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 45_000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        try {
          const v = await fn();
          if (v) return v;
        } catch (error) {
          last = error;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      const logs = await Promise.all(
        [prometheus, alertmanager].map(async (srv) => `--- ${srv.logFile} ---\n${(await readFile(srv.logFile, 'utf8')).slice(-2000)}`),
      );
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}\n${logs.join('\n')}`);
    };

    it('RelearnModelAccuracyLow fires when live accuracy drops and Alertmanager delivers it to Relearn', async () => {
      // Both jobs up.
      await waitFor('both scrape targets up', async () => (await query('up == 1')).length === 2);
      // The fraud model is told it is wrong, minSamples times.
      const minSamples = (await readJson(path.join(ROOT, 'server', 'src', 'tasks', 'definitions', 'fraud.json'))).retrain.minSamples as number;
      for (let i = 0; i < minSamples; i += 10) {
        await Promise.all(
          Array.from({ length: Math.min(10, minSamples - i) }, async (_, j) => {
            const p = await app.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput({ amount: 10 + i + j }) } });
            expect(p.errors).toBeUndefined();
            const f = await app.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.data.predict.id, correct: false } });
            expect(f.errors).toBeUndefined();
          }),
        );
      }
      const firing = await waitFor('RelearnModelAccuracyLow firing in Prometheus', async () => {
        const alerts = await query('ALERTS{alertname="RelearnModelAccuracyLow", alertstate="firing"}');
        return alerts.length > 0 && alerts;
      });
      expect(firing.map((a) => a.metric.model)).toEqual(['fraud']);
      expect(firing[0]!.metric).toMatchObject({ severity: 'warning', action: 'retrain' });
      // Alertmanager posted it to /webhooks/alerts with the token: Relearn recorded it.
      const recorded = await waitFor('the alert recorded by Relearn', async () => {
        const res = await app.gql(`{ alerts(model: "fraud") { source alertName status action } }`);
        return (res.data?.alerts as Json[] | undefined)?.find((a) => a.alertName === 'RelearnModelAccuracyLow');
      });
      expect(recorded).toMatchObject({ source: 'alertmanager', status: 'firing' });
      // Exactly one retrain job, started or joined by the alert; repeated deliveries (repeat_interval
      // 1s here) add none: wait until Alertmanager has delivered it again.
      const fromAlertmanager = await waitFor('Alertmanager to deliver the alert again', async () => {
        const received = (await app.gql(`{ alerts(model: "fraud") { alertName action } }`)).data.alerts as Json[];
        const deliveries = received.filter((a) => a.alertName === 'RelearnModelAccuracyLow');
        return deliveries.length >= 2 && deliveries;
      });
      expect(fromAlertmanager.at(-1)!.action).toBe('retrain-requested');
      expect(fromAlertmanager.slice(0, -1).every((a) => a.action === 'duplicate')).toBe(true);
      const jobs = (await app.gql(`{ retrainJobs(model: "fraud") { state triggers { kind } } }`)).data.retrainJobs as Json[];
      expect(jobs).toHaveLength(1);
      expect(jobs[0]!.triggers.map((t: Json) => t.kind)).toContain('alert');
      // The Grafana rule's query says the same: fraud's margin is below 0.
      const margin = await query(grafanaRuleExprs()[0]!.expr);
      expect(margin.map((r) => r.metric.model)).toEqual(['fraud']);
      expect(Number(margin[0]!.value[1])).toBeLessThan(0);
    }, 120_000);

    it('every dashboard query and rule expression runs in Prometheus', async () => {
      const exprs = [
        ...dashboardExprs().map((e) => ({ where: `panel "${e.panel}"`, expr: forPrometheus(e.expr) })),
        ...grafanaRuleExprs().map((e) => ({ where: `Grafana rule ${e.rule}`, expr: e.expr })),
        ...prometheusRuleExprs().map((e) => ({ where: `rule ${e.rule}`, expr: e.expr })),
      ];
      const failures: string[] = [];
      const empty: string[] = [];
      for (const { where, expr } of exprs) {
        try {
          const result = await query(expr);
          // Queries over series Relearn has by now must return something.
          const names = metricNamesIn(expr);
          if (
            result.length === 0 &&
            names.every((n) => (families.get(n)?.samples ?? families.get(n.replace(/_(bucket|sum|count)$/, ''))?.samples ?? 0) > 0) &&
            !/ > \d+$/.test(expr.trim())
          ) {
            empty.push(`${where}: ${expr}`);
          }
        } catch (error) {
          failures.push(`${where}: ${(error as Error).message}`);
        }
      }
      expect(failures).toEqual([]);
      expect(empty).toEqual([]);
      const models = await fetch(`${prometheus.url}/api/v1/label/model/values?match[]=relearn_model_accuracy_threshold`).then((r) => r.json() as Promise<Json>);
      expect(models.data).toEqual(expect.arrayContaining(['fraud', 'spam']));
    });
  });
});
