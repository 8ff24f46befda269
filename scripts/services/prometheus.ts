// Private Prometheus and Alertmanager servers for tests and `npm run services:up`, and the renderers
// that turn the committed monitoring/ files into configurations for them.
//
// Both come from Debian (`prometheus`, `prometheus-alertmanager`: Prometheus 2.42, Alertmanager 0.25
// on Debian 12), installed with apt-get when missing. The renderers read the committed rule files and
// Alertmanager route (monitoring/prometheus/rules/*.yml, monitoring/alertmanager/alertmanager.yml)
// and change only what differs locally (targets, addresses, token, intervals, `for`), so what tests
// run is what ships.
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { cacheDir, runCommand, startHttpServer, withLock, type Log } from './background-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The committed monitoring configuration. */
export const MONITORING_DIR = path.join(ROOT, 'monitoring');
export const PROMETHEUS_CONFIG = path.join(MONITORING_DIR, 'prometheus', 'prometheus.yml');
export const PROMETHEUS_RULES_DIR = path.join(MONITORING_DIR, 'prometheus', 'rules');
export const ALERTMANAGER_CONFIG = path.join(MONITORING_DIR, 'alertmanager', 'alertmanager.yml');

const INSTALL_TIMEOUT_MS = 15 * 60_000;
const START_TIMEOUT_MS = 60_000;

const defaultLog: Log = (msg) => console.error(`[prometheus] ${msg}`);

// ---------------------------------------------------------------------------------------------
// Installing

export interface PrometheusBinaries {
  prometheus: string;
  promtool: string;
  alertmanager: string;
  /** Alertmanager's config checker (shipped with Debian's prometheus-alertmanager). */
  amtool: string | null;
}

function which(names: string[]): string | null {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  for (const name of names) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (existsSync(file)) return file;
    }
  }
  return null;
}

function findBinaries(): PrometheusBinaries | null {
  const prometheus = which(['prometheus']);
  const promtool = which(['promtool']);
  // Debian calls it prometheus-alertmanager; upstream tarballs call it alertmanager.
  const alertmanager = which(['prometheus-alertmanager', 'alertmanager']);
  if (!prometheus || !promtool || !alertmanager) return null;
  return { prometheus, promtool, alertmanager, amtool: which(['amtool']) };
}

/** apt-get with a progress line every 30 s; the tail of its output to say why it failed. */
async function runLogged(command: string, args: string[], env: NodeJS.ProcessEnv, log: Log): Promise<{ code: number | null; tail: string }> {
  const { code, output } = await runCommand(command, args, { env, keepOutput: 20_000, progress: { what: `${command} ${args[0]}`, log } });
  return { code, tail: output.trimEnd().split('\n').slice(-25).join('\n') };
}

let installing: Promise<PrometheusBinaries> | undefined;
/**
 * The Prometheus, promtool and Alertmanager binaries, installed with apt-get (Debian packages
 * `prometheus` and `prometheus-alertmanager`) when missing. Throws, saying why, when they cannot be.
 */
export function ensurePrometheusInstalled(log: Log = defaultLog): Promise<PrometheusBinaries> {
  installing ??= (async () => {
    const found = findBinaries();
    if (found) return found;
    if (typeof process.getuid === 'function' && process.getuid() !== 0) {
      throw new Error(
        'Prometheus/Alertmanager not found (prometheus, promtool, prometheus-alertmanager) and this process is not root, ' +
          'so it cannot install them: run `apt-get install -y prometheus prometheus-alertmanager` as root.',
      );
    }
    // Two test workers must not run apt-get at once (dpkg's lock would fail one of them).
    return withLock(path.join(cacheDir(), '.prometheus-apt.lock'), 'installing Prometheus', log, INSTALL_TIMEOUT_MS, async () => {
      const again = findBinaries();
      if (again) return again;
      const env = { DEBIAN_FRONTEND: 'noninteractive' };
      log('Prometheus/Alertmanager not found: installing them with apt-get (Debian packages prometheus, prometheus-alertmanager)');
      const update = await runLogged('apt-get', ['update'], env, log);
      if (update.code !== 0) throw new Error(`Prometheus is not installed and \`apt-get update\` failed (exit ${update.code}):\n${update.tail}`);
      const install = await runLogged('apt-get', ['install', '-y', '--no-install-recommends', 'prometheus', 'prometheus-alertmanager'], env, log);
      if (install.code !== 0) {
        throw new Error(`\`apt-get install -y prometheus prometheus-alertmanager\` failed (exit ${install.code}):\n${install.tail}`);
      }
      const installed = findBinaries();
      if (!installed) {
        throw new Error(
          '`apt-get install -y prometheus prometheus-alertmanager` succeeded but prometheus, promtool or prometheus-alertmanager is still missing',
        );
      }
      log('installed Prometheus and Alertmanager');
      return installed;
    });
  })();
  // A failed attempt may be retried by a later call.
  installing.catch(() => (installing = undefined));
  return installing;
}

/** Runs a checker (promtool, amtool); throws with its output when it fails. */
async function check(binary: string, args: string[]): Promise<string> {
  const result = await runCommand(binary, args).catch((error: Error) => {
    throw new Error(`${path.basename(binary)} ${args.join(' ')} could not run: ${error.message}`);
  });
  const output = result.output.trim();
  if (result.code !== 0) throw new Error(`${path.basename(binary)} ${args.join(' ')} failed (exit ${result.code}):\n${output}`);
  return output;
}

/** `promtool check config FILE` (which also checks the rule files it names). */
export async function promtoolCheckConfig(configFile: string): Promise<string> {
  const { promtool } = await ensurePrometheusInstalled();
  return check(promtool, ['check', 'config', configFile]);
}

/** `promtool check rules FILE...`. */
export async function promtoolCheckRules(ruleFiles: string[]): Promise<string> {
  const { promtool } = await ensurePrometheusInstalled();
  return check(promtool, ['check', 'rules', ...ruleFiles]);
}

/** `amtool check-config FILE`. */
export async function amtoolCheckConfig(configFile: string): Promise<string> {
  const { amtool } = await ensurePrometheusInstalled();
  if (!amtool) throw new Error('amtool is missing (Debian ships it with prometheus-alertmanager)');
  return check(amtool, ['check-config', configFile]);
}

// ---------------------------------------------------------------------------------------------
// Rendering

export interface ScrapeJob {
  job: string;
  /** host:port */
  targets: string[];
  metricsPath?: string;
}

export interface PrometheusConfigOptions {
  scrapeJobs: ScrapeJob[];
  /** Rule files (absolute paths, or relative to the config file). */
  ruleFiles: string[];
  /** Alertmanager addresses, host:port. */
  alertmanagers: string[];
  /** Default 15s (the committed file's). */
  scrapeInterval?: string;
  evaluationInterval?: string;
}

/** A prometheus.yml: scrape jobs, rule files, Alertmanagers and intervals. */
export function renderPrometheusConfig(opts: PrometheusConfigOptions): string {
  const scrapeInterval = opts.scrapeInterval ?? '15s';
  const config = {
    global: { scrape_interval: scrapeInterval, evaluation_interval: opts.evaluationInterval ?? scrapeInterval },
    rule_files: opts.ruleFiles,
    alerting: { alertmanagers: [{ static_configs: [{ targets: opts.alertmanagers }] }] },
    scrape_configs: opts.scrapeJobs.map((j) => ({
      job_name: j.job,
      metrics_path: j.metricsPath ?? '/metrics',
      // Scrapes must finish within the interval (Prometheus' default timeout is 10s).
      ...(parseDurationSeconds(scrapeInterval) < 10 ? { scrape_timeout: scrapeInterval } : {}),
      static_configs: [{ targets: j.targets }],
    })),
  };
  return `# Rendered by scripts/services/prometheus.ts from monitoring/prometheus.\n${stringifyYaml(config)}`;
}

function parseDurationSeconds(d: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  let total = 0;
  const re = /(\d+)(ms|s|m|h|d|w|y)/g;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = re.exec(d))) {
    total += Number(match[1]) * units[match[2]!]!;
    consumed += match[0].length;
  }
  if (consumed !== d.length || consumed === 0) throw new Error(`not a Prometheus duration: ${JSON.stringify(d)}`);
  return total;
}

export interface PrometheusRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface PrometheusRuleFile {
  file: string;
  groups: { name: string; interval?: string; rules: PrometheusRule[] }[];
}

/** The committed rule files (monitoring/prometheus/rules/*.yml), parsed. */
export async function readPrometheusRules(dir = PROMETHEUS_RULES_DIR): Promise<PrometheusRuleFile[]> {
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) throw new Error(`no rule files in ${dir}`);
  return Promise.all(
    files.map(async (f) => {
      const file = path.join(dir, f);
      const parsed = parseYaml(await readFile(file, 'utf8')) as { groups?: PrometheusRuleFile['groups'] };
      if (!parsed || !Array.isArray(parsed.groups)) throw new Error(`${file} has no groups`);
      return { file, groups: parsed.groups };
    }),
  );
}

/** What `for` each alert gets in a rendered copy: one duration for all, or per alert name. */
export type ForOverride = string | Record<string, string>;

/**
 * Writes copies of the committed rule files into `outDir`, changing only `for` (tests shorten it);
 * returns their paths.
 */
export async function renderPrometheusRules(outDir: string, opts: { forOverride?: ForOverride; rulesDir?: string } = {}): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const out: string[] = [];
  for (const ruleFile of await readPrometheusRules(opts.rulesDir)) {
    const groups = ruleFile.groups.map((g) => ({
      ...g,
      rules: g.rules.map((r) => {
        if (!r.alert || opts.forOverride === undefined) return r;
        const override = typeof opts.forOverride === 'string' ? opts.forOverride : opts.forOverride[r.alert];
        return override === undefined ? r : { ...r, for: override };
      }),
    }));
    const target = path.join(outDir, path.basename(ruleFile.file));
    await writeFile(target, `# Rendered from ${path.relative(ROOT, ruleFile.file)} by scripts/services/prometheus.ts.\n${stringifyYaml({ groups })}`);
    out.push(target);
  }
  return out;
}

export interface AlertmanagerConfigOptions {
  /** Where the webhook receiver POSTs, e.g. http://127.0.0.1:4000/webhooks/alerts. */
  webhookUrl: string;
  /** The bearer token, written inline (`credentials`) ... */
  token?: string;
  /** ... or a file holding it (`credentials_file`). */
  tokenFile?: string;
  groupWait?: string;
  groupInterval?: string;
  repeatInterval?: string;
  /** Default: the committed file's. */
  committedConfig?: string;
}

interface AlertmanagerYaml {
  route: { receiver: string; group_by?: string[]; group_wait?: string; group_interval?: string; repeat_interval?: string; [k: string]: unknown };
  receivers: {
    name: string;
    webhook_configs?: {
      url: string;
      send_resolved?: boolean;
      http_config?: { authorization?: { type?: string; credentials?: string; credentials_file?: string }; [k: string]: unknown };
      [k: string]: unknown;
    }[];
  }[];
  [k: string]: unknown;
}

/**
 * An alertmanager.yml: the committed route and receiver with a local webhook URL, token and
 * (optionally) shorter intervals.
 */
export async function renderAlertmanagerConfig(opts: AlertmanagerConfigOptions): Promise<string> {
  if (!opts.token === !opts.tokenFile) throw new Error('renderAlertmanagerConfig needs exactly one of token and tokenFile');
  const config = parseYaml(await readFile(opts.committedConfig ?? ALERTMANAGER_CONFIG, 'utf8')) as AlertmanagerYaml;
  config.route = {
    ...config.route,
    ...(opts.groupWait ? { group_wait: opts.groupWait } : {}),
    ...(opts.groupInterval ? { group_interval: opts.groupInterval } : {}),
    ...(opts.repeatInterval ? { repeat_interval: opts.repeatInterval } : {}),
  };
  const receiver = config.receivers.find((r) => r.name === config.route.receiver);
  const webhook = receiver?.webhook_configs?.[0];
  if (!webhook) throw new Error(`the committed Alertmanager config has no webhook receiver named ${config.route.receiver}`);
  webhook.url = opts.webhookUrl;
  webhook.http_config = {
    ...webhook.http_config,
    authorization: { type: 'Bearer', ...(opts.token ? { credentials: opts.token } : { credentials_file: opts.tokenFile }) },
  };
  return `# Rendered by scripts/services/prometheus.ts from monitoring/alertmanager/alertmanager.yml.\n${stringifyYaml(config)}`;
}

export interface LocalMonitoringOptions {
  /** Where the rendered files go. */
  dir: string;
  /** host:port of the API's /metrics, e.g. 127.0.0.1:4000. */
  apiTarget: string;
  /** host:port of the trainer's /metrics; omitted: no trainer job. */
  trainerTarget?: string;
  /** host:port of the Alertmanager. */
  alertmanager: string;
  interval?: string;
  forOverride?: ForOverride;
}

/** Writes rules/*.yml and prometheus.yml for a local Prometheus into `dir`; returns the config's path. */
export async function writeLocalPrometheusConfig(opts: LocalMonitoringOptions): Promise<string> {
  const ruleFiles = await renderPrometheusRules(path.join(opts.dir, 'rules'), { forOverride: opts.forOverride });
  const config = path.join(opts.dir, 'prometheus.yml');
  await writeFile(
    config,
    renderPrometheusConfig({
      scrapeJobs: [
        { job: 'relearn-api', targets: [opts.apiTarget] },
        ...(opts.trainerTarget ? [{ job: 'relearn-trainer', targets: [opts.trainerTarget] }] : []),
      ],
      ruleFiles,
      alertmanagers: [opts.alertmanager],
      ...(opts.interval ? { scrapeInterval: opts.interval, evaluationInterval: opts.interval } : {}),
    }),
  );
  return config;
}

// ---------------------------------------------------------------------------------------------
// Running

export interface StartOptions {
  /** The configuration file. */
  config: string;
  /** Storage directory (created). */
  dataDir: string;
  /** 0 or undefined: a free port. */
  port?: number;
  /** Default `<dataDir>.log`. */
  logFile?: string;
  /** Leave the server running when this process exits (`services:up`). Default false. */
  keepRunning?: boolean;
  log?: Log;
}

export interface MonitoringServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  pid: number;
  logFile: string;
  /** Stops the server (SIGTERM, then SIGKILL); safe to call more than once. */
  stop(): Promise<void>;
}

async function startServer(
  name: string,
  binaryOf: (b: PrometheusBinaries) => string,
  argsFor: (port: number, dataDir: string, config: string) => string[],
  opts: StartOptions,
): Promise<MonitoringServer> {
  const log = opts.log ?? defaultLog;
  const binaries = await ensurePrometheusInstalled(log);
  const dataDir = path.resolve(opts.dataDir);
  const config = path.resolve(opts.config);
  const logFile = opts.logFile ?? `${dataDir}.log`;
  if (!existsSync(config)) throw new Error(`${name}: no configuration file ${config}`);
  await mkdir(dataDir, { recursive: true });
  const server = await startHttpServer({
    name,
    ports: [opts.port ?? 0],
    command: binaryOf(binaries),
    args: ([port]) => argsFor(port!, dataDir, config),
    logFile,
    keepRunning: opts.keepRunning ?? false,
    readyPath: '/-/ready',
    timeoutMs: START_TIMEOUT_MS,
    log,
    details: () => `config ${config}, data ${dataDir}`,
  });
  return { url: server.url, port: server.ports[0]!, pid: server.pid, logFile, stop: server.stop };
}

/** Starts Prometheus on 127.0.0.1; resolves once /-/ready answers 200. */
export function startPrometheus(opts: StartOptions): Promise<MonitoringServer> {
  return startServer(
    'Prometheus',
    (b) => b.prometheus,
    (port, dataDir, config) => [
      `--config.file=${config}`,
      `--storage.tsdb.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}/`,
      '--storage.tsdb.retention.time=15d',
    ],
    opts,
  );
}

/** Starts Alertmanager on 127.0.0.1 (clustering off); resolves once /-/ready answers 200. */
export function startAlertmanager(opts: StartOptions): Promise<MonitoringServer> {
  return startServer(
    'Alertmanager',
    (b) => b.alertmanager,
    (port, dataDir, config) => [
      `--config.file=${config}`,
      `--storage.path=${dataDir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=http://127.0.0.1:${port}/`,
      // An empty address turns the gossip cluster off (it would bind 0.0.0.0:9094).
      '--cluster.listen-address=',
    ],
    opts,
  );
}
