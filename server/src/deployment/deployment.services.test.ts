// The container and Kubernetes deployment agree with the code: Dockerfile, docker-compose.yml,
// .env.example, docker/**, deploy/k8s/** and monitoring/ are checked against server/src/config.ts
// (the variables Relearn reads), the ports and health paths it serves, and each other.
// `docker-compose config` must accept the compose file: Debian's docker-compose is installed with
// apt-get when missing, and the test fails (never skips) when it cannot be.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../config.js';

type Json = any;

const root = fileURLToPath(new URL('../../../', import.meta.url));
const file = (p: string) => path.join(root, p);
const read = (p: string) => readFileSync(file(p), 'utf8');

const API_PORT = 4000;
const TRAINER_PORT = 4100;
/** The variables an API/trainer needs to reach the external services and to authenticate. */
const EXTERNAL_VARS = [
  'DATABASE_URL',
  'S3_ENDPOINT',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
  'S3_BUCKET',
  'S3_REGION',
  'MLFLOW_TRACKING_URI',
  'ADMIN_TOKEN',
  'WEBHOOK_TOKEN',
];

/** The environment variable names server/src/config.ts reads (the keys of its zod envSchema). */
function configVars(): Set<string> {
  const source = read('server/src/config.ts');
  const start = source.indexOf('const envSchema = z.object({');
  expect(start, 'envSchema in server/src/config.ts').toBeGreaterThan(0);
  const body = source.slice(start, source.indexOf('\n});', start));
  const names = [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!);
  expect(names.length).toBeGreaterThan(10);
  return new Set(names);
}

/** Paths the HTTP server answers (server/src/http/http-server.ts). */
function servedPaths(): Set<string> {
  const source = read('server/src/http/http-server.ts');
  return new Set([...source.matchAll(/path === '(\/[a-z/]+)'/g)].map((m) => m[1]!));
}

function ensureDockerCompose(): string {
  const found = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.trim();
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  const run = (args: string[]) => {
    const argv = [...sudo, ...args];
    return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  };
  let result = run(['apt-get', 'install', '-y', '--no-install-recommends', 'docker-compose']);
  if (result.status !== 0) {
    run(['apt-get', 'update']);
    result = run(['apt-get', 'install', '-y', '--no-install-recommends', 'docker-compose']);
  }
  const again = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
  if (again.status !== 0) {
    throw new Error(
      `docker-compose is missing and could not be installed with apt-get (Debian's docker-compose):\n${result.stderr ?? ''}${result.error?.message ?? ''}`,
    );
  }
  return again.stdout.trim();
}

/** Instructions of a Dockerfile: [INSTRUCTION, rest], continuation lines joined. */
function dockerfile(p: string): Array<[string, string]> {
  return read(p)
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [, instr, rest] = /^(\S+)\s*(.*)$/.exec(l)!;
      return [instr!.toUpperCase(), rest!] as [string, string];
    });
}

function lastStage(instructions: Array<[string, string]>): Array<[string, string]> {
  const from = instructions.map(([i]) => i).lastIndexOf('FROM');
  return instructions.slice(from);
}

/** A compose volume entry as {source, target}: docker-compose 1.29 prints the short form. */
function mountOf(v: Json): { source: string; target: string } {
  if (typeof v !== 'string') return { source: v.source, target: v.target };
  const [source, target] = v.split(':');
  return { source: source!, target: target! };
}

/** The healthcheck command of a compose service as one string. */
const healthTest = (service: Json): string => [].concat(service.healthcheck?.test ?? []).join(' ');

describe('Dockerfiles', () => {
  it('the Relearn image: build stage with npm ci and the web build, runtime as node with tsx, port 4000, /healthz, the API command', () => {
    const all = dockerfile('Dockerfile');
    const froms = all.filter(([i]) => i === 'FROM').map(([, r]) => r);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(read('Dockerfile')).toMatch(/ARG NODE_IMAGE=node:24-bookworm-slim/);
    const runs = all.filter(([i]) => i === 'RUN').map(([, r]) => r);
    expect(runs.some((r) => /npm ci(?! --omit)/.test(r))).toBe(true);
    expect(runs.some((r) => r.includes('npm run build -w web --if-present'))).toBe(true);
    expect(runs.some((r) => r.includes('npm ci --omit=dev'))).toBe(true);

    const runtime = lastStage(all);
    const users = runtime.filter(([i]) => i === 'USER').map(([, r]) => r);
    expect(users.at(-1)).toBe('node');
    expect(runtime.filter(([i]) => i === 'EXPOSE').map(([, r]) => r)).toContain(String(API_PORT));
    const copies = runtime.filter(([i]) => i === 'COPY').map(([, r]) => r);
    // tsx runs the TypeScript at runtime: it and esbuild come with the production dependencies.
    for (const dep of ['tsx', 'esbuild', '@esbuild']) expect(copies.some((c) => c.includes(`/app/node_modules/${dep} `))).toBe(true);
    // What the code reads at runtime: sources, migrations, package.json (version), tasks.
    for (const p of ['server/src', 'migrations', 'package.json', 'server/package.json', '/app/web/dist'])
      expect(
        copies.some((c) => c.includes(p)),
        p,
      ).toBe(true);
    // The API serves the dashboard from web/dist (server/src/http/static-files.ts).
    if (existsSync(file('server/src/http/static-files.ts'))) expect(read('server/src/http/static-files.ts')).toContain('web/dist/');
    expect(existsSync(file('server/src/tasks/definitions'))).toBe(true);
    const [, health] = runtime.find(([i]) => i === 'HEALTHCHECK')!;
    expect(health).toContain('/healthz');
    expect(health).toContain('fetch(');
    expect(health).not.toMatch(/curl|wget/);
    const cmd = JSON.parse(runtime.find(([i]) => i === 'CMD')![1]);
    expect(cmd).toEqual(['node', '--import', 'tsx', 'server/src/main.ts']);
    expect(existsSync(file(cmd[3]))).toBe(true);
    const env = runtime
      .filter(([i]) => i === 'ENV')
      .map(([, r]) => r)
      .join(' ');
    expect(env).toMatch(/HOST=0\.0\.0\.0/);
    expect(env).toMatch(new RegExp(`PORT=${API_PORT}`));
    for (const name of [...env.matchAll(/([A-Z_]+)=/g)].map((m) => m[1]!)) {
      if (name !== 'NODE_ENV') expect(configVars(), name).toContain(name);
    }
  });

  it('the MLflow image: python:3.11-slim, mlflow 3.17.2 with the S3 and PostgreSQL drivers, non-root', () => {
    const all = dockerfile('docker/mlflow/Dockerfile');
    expect(all.find(([i]) => i === 'FROM')![1]).toBe('python:3.11-slim');
    const run = all
      .filter(([i]) => i === 'RUN')
      .map(([, r]) => r)
      .join(' ');
    for (const pkg of ['mlflow==3.17.2', 'boto3', 'psycopg2-binary']) expect(run).toContain(pkg);
    const user = all.filter(([i]) => i === 'USER').at(-1)![1];
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(run).toContain(`useradd`);
  });

  it('.dockerignore keeps node_modules, local data and secrets out of the build context', () => {
    const lines = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['**/node_modules', 'data', '.env', '.git', '.services']) expect(lines).toContain(p);
  });
});

describe('docker-compose.yml', () => {
  let compose: Json;
  let services: Record<string, Json>;
  let dir: string;

  beforeAll(() => {
    const bin = ensureDockerCompose();
    dir = mkdtempSync(path.join(tmpdir(), 'relearn-compose-'));
    // An empty env file: the defaults written in docker-compose.yml, whatever .env holds here.
    const emptyEnv = path.join(dir, 'empty.env');
    writeFileSync(emptyEnv, '');
    const cleanEnv = Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) =>
          !/^(POSTGRES_|S3_|MLFLOW_|ADMIN_TOKEN|WEBHOOK_|DATABASE_URL|GRAFANA_|API_PORT|LOG_LEVEL|RELEARN_IMAGE|MLFLOW_IMAGE|MINIO_IMAGE|MC_IMAGE)/.test(k),
      ),
    );
    const out = execFileSync(bin, ['--env-file', emptyEnv, '-f', file('docker-compose.yml'), 'config'], { cwd: root, encoding: 'utf8', env: cleanEnv });
    compose = parse(out);
    services = compose.services;
    // .env.example must be accepted too, and every variable it sets is one the compose file uses.
    execFileSync(bin, ['--env-file', file('.env.example'), '-f', file('docker-compose.yml'), 'config', '-q'], { cwd: root, env: cleanEnv });
  }, 900_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has every service, and named volumes for the stateful ones', () => {
    for (const s of ['postgres', 'minio', 'minio-init', 'mlflow', 'api', 'trainer', 'gateway', 'prometheus', 'alertmanager', 'grafana']) {
      expect(services, s).toHaveProperty(s);
    }
    for (const [s, v] of [
      ['postgres', 'postgres-data'],
      ['minio', 'minio-data'],
      ['grafana', 'grafana-data'],
      ['prometheus', 'prometheus-data'],
    ] as const) {
      expect(Object.keys(compose.volumes)).toContain(v);
      expect(
        services[s].volumes.some((m: Json) => mountOf(m).source === v),
        `${s} uses ${v}`,
      ).toBe(true);
    }
  });

  it('every variable set on the API and the trainer is one config.ts reads, and the values parse', () => {
    const known = configVars();
    for (const name of ['api', 'trainer']) {
      const env: Record<string, string> = Object.fromEntries(Object.entries(services[name].environment).map(([k, v]) => [k, String(v)]));
      for (const key of Object.keys(env)) expect(known, `${name}: ${key}`).toContain(key);
      for (const key of EXTERNAL_VARS) expect(env, `${name}: ${key}`).toHaveProperty(key);
      const config = loadConfig(env);
      expect(config.host).toBe('0.0.0.0');
      expect(config.databaseUrl).toMatch(/@postgres:5432\//);
      expect(config.s3?.endpoint).toBe('http://minio:9000');
      expect(config.mlflowTrackingUri).toBe('http://mlflow:5000');
      expect(config.adminTokenGenerated).toBe(false);
    }
    expect(loadConfig(services.api.environment).trainer).toBe('off');
    expect(loadConfig(services.api.environment).port).toBe(API_PORT);
    expect(loadConfig(services.trainer.environment).port).toBe(TRAINER_PORT);
  });

  it('.env.example documents every variable the compose file interpolates, with the same defaults', () => {
    const raw = read('docker-compose.yml');
    const defaults = new Map<string, string>();
    for (const m of raw.matchAll(/\$\{([A-Z0-9_]+):-([^}]*)\}/g)) defaults.set(m[1]!, m[2]!);
    const example = new Map(
      read('.env.example')
        .split('\n')
        .filter((l) => /^[A-Z0-9_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as [string, string]),
    );
    for (const [name, value] of defaults) expect(example.get(name), name).toBe(value);
    for (const name of example.keys()) expect(defaults.has(name), `${name} is used by docker-compose.yml`).toBe(true);
  });

  it('one image, two commands; ports 4000 / 4100; health checks on /readyz and paths the server serves', () => {
    const paths = servedPaths();
    for (const p of ['/healthz', '/readyz', '/metrics', '/graphql']) expect(paths, p).toContain(p);
    expect(services.api.image).toBe(services.trainer.image);
    expect(services.api.build.context).toBe(services.trainer.build.context);
    expect(services.api.command).toBeUndefined(); // the image's CMD: server/src/main.ts
    expect(services.trainer.command).toEqual(['node', '--import', 'tsx', 'server/src/trainer.ts']);
    expect(services.api.scale).toBe(2);
    for (const [name, port] of [
      ['api', API_PORT],
      ['trainer', TRAINER_PORT],
    ] as const) {
      expect(String(services[name].environment.PORT)).toBe(String(port));
      expect(services[name].expose.map(String)).toContain(String(port));
      const test = healthTest(services[name]);
      expect(test).toContain(`http://127.0.0.1:${port}/readyz`);
    }
    expect(healthTest(services.minio)).toContain('/minio/health/live');
    expect(healthTest(services.mlflow)).toContain(':5000/health');
    expect(healthTest(services.gateway)).toContain(`:${API_PORT}/healthz`);
    expect(services.gateway.ports.some((p: Json) => Number(p.target ?? String(p).split(':').at(-1)!.split('/')[0]) === API_PORT)).toBe(true);
    // No replica publishes a fixed host port (two replicas could not share it).
    expect(services.api.ports).toBeUndefined();
  });

  it('depends_on conditions: healthy databases/stores, completed bucket init, every awaited service has a healthcheck', () => {
    const want: Record<string, Record<string, string>> = {
      'minio-init': { minio: 'service_healthy' },
      mlflow: { postgres: 'service_healthy', 'minio-init': 'service_completed_successfully' },
      api: { postgres: 'service_healthy', 'minio-init': 'service_completed_successfully', mlflow: 'service_healthy' },
      trainer: { postgres: 'service_healthy', 'minio-init': 'service_completed_successfully', mlflow: 'service_healthy' },
      gateway: { api: 'service_healthy' },
    };
    for (const [service, deps] of Object.entries(want)) {
      for (const [dep, condition] of Object.entries(deps)) expect(services[service].depends_on?.[dep]?.condition, `${service} -> ${dep}`).toBe(condition);
    }
    for (const service of Object.values(services)) {
      for (const [dep, d] of Object.entries((service.depends_on ?? {}) as Record<string, Json>)) {
        if (d.condition === 'service_healthy') expect(services[dep].healthcheck, `${dep} has a healthcheck`).toBeDefined();
      }
    }
  });

  it('MinIO buckets, the mlflow database and MLflow flags line up', () => {
    const init = [].concat(services['minio-init'].command).join(' ');
    expect(init).toContain('mc mb --ignore-existing relearn/mlflow');
    // `$$` is compose's escape for a literal `$` (docker-compose 1.29 prints it escaped).
    expect(init.replaceAll('$$', '$')).toContain('"relearn/$S3_BUCKET"');
    expect(services['minio-init'].environment.S3_BUCKET).toBe(services.api.environment.S3_BUCKET);
    expect(services.minio.command).toEqual(['server', '/data', '--console-address', ':9001']);
    expect(services.minio.environment.MINIO_ROOT_USER).toBe(services.api.environment.S3_ACCESS_KEY);
    expect(services.minio.environment.MINIO_ROOT_PASSWORD).toBe(services.api.environment.S3_SECRET_KEY);

    const initdb = services.postgres.volumes.map(mountOf).find((m: Json) => m.target === '/docker-entrypoint-initdb.d');
    expect(initdb).toBeDefined();
    const initDir = path.resolve(root, initdb!.source);
    const sql = readdirSync(initDir)
      .map((f) => readFileSync(path.join(initDir, f), 'utf8'))
      .join('\n');
    expect(sql).toMatch(/CREATE DATABASE mlflow;/);

    const flags = services.mlflow.command.join(' ');
    expect(flags).toMatch(/--backend-store-uri=postgresql:\/\/[^ ]+@postgres:5432\/mlflow( |$)/);
    expect(flags).toContain('--artifacts-destination=s3://mlflow/artifacts');
    expect(flags).not.toContain('--default-artifact-root');
    expect(flags).toContain('--allowed-hosts=mlflow,mlflow:*,localhost:*,127.0.0.1:*');
    expect(flags).toContain('--port=5000');
    expect(services.mlflow.environment.MLFLOW_S3_ENDPOINT_URL).toBe('http://minio:9000');
    expect(services.mlflow.environment.AWS_ACCESS_KEY_ID).toBe(services.api.environment.S3_ACCESS_KEY);
    expect(services.mlflow.environment.AWS_SECRET_ACCESS_KEY).toBe(services.api.environment.S3_SECRET_KEY);
    expect(services.mlflow.build.context).toMatch(/docker\/mlflow$/);
  });

  it('the gateway load-balances the api replicas on :4000, WebSocket upgrades included', () => {
    const mount = services.gateway.volumes.map(mountOf).find((m: Json) => m.target.startsWith('/etc/nginx/conf.d/'));
    const conf = readFileSync(path.resolve(root, mount!.source), 'utf8');
    expect(conf).toMatch(new RegExp(`server api:${API_PORT} resolve;`));
    expect(conf).toMatch(new RegExp(`listen ${API_PORT};`));
    expect(conf).toContain('proxy_set_header Upgrade $http_upgrade;');
    expect(conf).toContain('proxy_set_header Connection $connection_upgrade;');
    expect(conf).toContain('proxy_http_version 1.1;');
  });

  it('monitoring names the compose services and ports: Prometheus targets, Alertmanager and Grafana webhooks', () => {
    const ports: Record<string, number> = {
      api: API_PORT,
      trainer: TRAINER_PORT,
      alertmanager: 9093,
      prometheus: 9090,
    };
    const prom = parse(read('monitoring/prometheus/prometheus.yml'));
    const targets: string[] = [
      ...prom.scrape_configs.flatMap((j: Json) => [
        ...(j.static_configs ?? []).flatMap((s: Json) => s.targets),
        ...(j.dns_sd_configs ?? []).flatMap((d: Json) => d.names.map((n: string) => `${n}:${d.port}`)),
      ]),
      ...prom.alerting.alertmanagers.flatMap((a: Json) => a.static_configs.flatMap((s: Json) => s.targets)),
    ];
    expect(targets).toEqual(expect.arrayContaining([`api:${API_PORT}`, `trainer:${TRAINER_PORT}`]));
    for (const target of targets) {
      const [host, port] = target.split(':');
      expect(services, target).toHaveProperty(host!);
      expect(Number(port), target).toBe(ports[host!]);
    }
    for (const job of prom.scrape_configs) expect(paths(job.metrics_path ?? '/metrics')).toBe(true);

    const am = parse(read('monitoring/alertmanager/alertmanager.yml'));
    const urls: string[] = am.receivers.flatMap((r: Json) => (r.webhook_configs ?? []).map((w: Json) => w.url));
    const grafana = parse(read('monitoring/grafana/provisioning/alerting/contact-points.yaml'));
    urls.push(...grafana.contactPoints.flatMap((c: Json) => c.receivers.map((r: Json) => r.settings.url)));
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) {
      const u = new URL(url);
      expect(u.hostname, url).toBe('api');
      expect(Number(u.port), url).toBe(API_PORT);
      expect(paths(u.pathname), url).toBe(true);
    }
    // Alertmanager's bearer token is the API's WEBHOOK_TOKEN.
    expect(services.alertmanager.environment.WEBHOOK_TOKEN).toBe(services.api.environment.WEBHOOK_TOKEN);
    expect(services.grafana.environment.WEBHOOK_TOKEN).toBe(services.api.environment.WEBHOOK_TOKEN);

    function paths(p: string): boolean {
      return servedPaths().has(p) || (p === '/webhooks/alerts' && read('server/src/http/http-server.ts').includes('/webhooks/alerts'));
    }
  });
});

describe('deploy/k8s (Kustomize)', () => {
  const k8sDir = file('deploy/k8s');
  const kustomization = parse(readFileSync(path.join(k8sDir, 'kustomization.yaml'), 'utf8'));
  /** Rendered the way kustomize does what this kustomization uses: resources, namespace, generators. */
  const docs: Json[] = (kustomization.resources as string[]).flatMap((r) =>
    parseAllDocuments(readFileSync(path.join(k8sDir, r), 'utf8')).map((d) => {
      expect(d.errors, r).toEqual([]);
      return d.toJS();
    }),
  );
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);

  it('every manifest parses and the kustomization lists them all; generated ConfigMaps come from monitoring/', () => {
    const files = readdirSync(k8sDir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    for (const d of docs) {
      expect(d.apiVersion, JSON.stringify(d.metadata)).toBeTruthy();
      expect(d.kind).toBeTruthy();
      expect(d.metadata.name).toBeTruthy();
    }
    const generated = kustomization.configMapGenerator.flatMap((g: Json) => g.files.map((f: string) => f.split('=').at(-1)));
    expect(generated).toEqual(
      expect.arrayContaining([
        '../../monitoring/prometheus/prometheus.yml',
        '../../monitoring/prometheus/rules/relearn.yml',
        '../../monitoring/alertmanager/alertmanager.yml',
      ]),
    );
    for (const f of generated) expect(existsSync(path.join(k8sDir, f)), f).toBe(true);
  });

  it('renders with kubectl kustomize when kubectl is installed', () => {
    const kubectl = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
    if (kubectl.status !== 0) {
      // Not installable in a version that knows Kustomize v5 (Debian 12 has kubectl 1.20): the
      // rendering above, from the kustomization's own resources, is what is checked.
      return;
    }
    const out = execFileSync('kubectl', ['kustomize', '--load-restrictor', 'LoadRestrictionsNone', k8sDir], { encoding: 'utf8' });
    const rendered = parseAllDocuments(out).map((d) => d.toJS());
    const ids = (list: Json[]) =>
      list
        .filter((d) => d.kind !== 'ConfigMap' || (!d.metadata.name.startsWith('relearn-prom') && !d.metadata.name.startsWith('relearn-alert')))
        .map((d) => `${d.kind}/${d.metadata.name}`)
        .sort();
    expect(ids(rendered)).toEqual(ids(docs));
    for (const d of rendered) if (d.kind !== 'Namespace') expect(d.metadata.namespace).toBe(kustomization.namespace);
    const prom = rendered.find((d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('relearn-prometheus-') && !d.metadata.name.includes('rules'));
    expect(prom.data['prometheus.yml']).toBe(read('monitoring/prometheus/prometheus.yml'));
  });

  it('the Deployments agree with the code and the compose file: image, command, ports, env names, probes, non-root', () => {
    const known = configVars();
    const configMap = find('ConfigMap', 'relearn-config');
    const secret = find('Secret', 'relearn-secrets');
    const composeCommand = { api: ['node', '--import', 'tsx', 'server/src/main.ts'], trainer: ['node', '--import', 'tsx', 'server/src/trainer.ts'] };
    for (const [name, port] of [
      ['api', API_PORT],
      ['trainer', TRAINER_PORT],
    ] as const) {
      const deployment = find('Deployment', name);
      expect(deployment, name).toBeDefined();
      const pod = deployment.spec.template.spec;
      expect(deployment.spec.selector.matchLabels).toEqual(expect.objectContaining(deployment.spec.template.metadata.labels));
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      const [c] = pod.containers;
      expect(c.image).toBe(kustomization.images[0].name);
      expect(c.command).toEqual(composeCommand[name]);
      expect(c.ports.map((p: Json) => p.containerPort)).toEqual([port]);
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(c.resources.requests.cpu).toBeTruthy(); // the HPA's CPU utilisation needs requests
      expect(c.resources.limits.memory).toBeTruthy();
      const env: Record<string, string> = { ...configMap.data, ...secret.stringData, ...Object.fromEntries(c.env.map((e: Json) => [e.name, e.value])) };
      for (const key of Object.keys(env)) expect(known, `${name}: ${key}`).toContain(key);
      expect(c.envFrom.map((e: Json) => e.configMapRef?.name ?? e.secretRef?.name).sort()).toEqual(['relearn-config', 'relearn-secrets']);
      expect(Number(env.PORT)).toBe(port);
      const parsed = loadConfig(env);
      expect(parsed.port).toBe(port);
      expect(parsed.host).toBe('0.0.0.0');
      const paths = servedPaths();
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean)) {
        expect(paths).toContain(probe.httpGet.path);
        expect([port, 'http']).toContain(probe.httpGet.port);
      }
      const service = find('Service', name);
      expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
      expect(service.spec.ports[0].port).toBe(port);
      expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(port));
    }
    expect(find('Deployment', 'api').spec.replicas).toBe(2);
    expect(find('Deployment', 'api').spec.template.spec.containers[0].env).toContainEqual({ name: 'TRAINER', value: 'off' });
    // Prometheus' targets (monitoring/) name these Services and ports.
    // The API job discovers every replica by DNS name and port.
    expect(read('monitoring/prometheus/prometheus.yml')).toMatch(new RegExp(`names: \\["api"\\][\\s\\S]*port: ${API_PORT}`));
    expect(read('monitoring/prometheus/prometheus.yml')).toContain(`trainer:${TRAINER_PORT}`);
  });

  it('the HPA scales the API Deployment on CPU (autoscaling/v2)', () => {
    const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics[0].resource.name).toBe('cpu');
  });

  it('the Secret template covers what config.ts needs for the external services; the ConfigMap holds no secrets', () => {
    const secret = find('Secret', 'relearn-secrets');
    for (const key of EXTERNAL_VARS) expect(Object.keys(secret.stringData)).toContain(key);
    const parsed = loadConfig({ ...secret.stringData, ...find('ConfigMap', 'relearn-config').data });
    expect(parsed.databaseUrl).toBeTruthy();
    expect(parsed.s3).not.toBeNull();
    expect(parsed.mlflowTrackingUri).toBeTruthy();
    expect(parsed.webhookToken).toBeTruthy();
    const configMap = find('ConfigMap', 'relearn-config');
    for (const key of Object.keys(configMap.data)) expect(key).not.toMatch(/TOKEN|SECRET|PASSWORD|KEY|DATABASE_URL/);
  });
});
