import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';

/** An S3 API (MinIO, AWS S3) holding Relearn's blobs. */
export interface S3Config {
  /** http(s)://host:port of the S3 API. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

/** Every setting Relearn reads from the environment, parsed once at start-up. */
export interface Config {
  port: number;
  host: string;
  /** A real PostgreSQL server; `null` means the embedded PGlite under `dataDir`. */
  databaseUrl: string | null;
  /**
   * A direct PostgreSQL URL for what needs a session of its own (LISTEN, for cross-process events)
   * when DATABASE_URL goes through a pooler in transaction mode (PgBouncer); null: DATABASE_URL.
   */
  databaseDirectUrl: string | null;
  dataDir: string;
  /** Test runs: a directory memoising bootstrap fits (training/bootstrap-fit-cache.ts); null: every bootstrap fits. */
  bootstrapFitCacheDir: string | null;
  /** Bytes per chunk file of a streamed dataset version (a smaller dataset is one `rows.jsonl`). */
  datasetChunkBytes: number;
  /** Object storage for blobs; `null` means the local directory `<dataDir>/blobs`. */
  s3: S3Config | null;
  /** MLflow tracking server for runs and model versions; `null` means the embedded registry. */
  mlflowTrackingUri: string | null;
  /** Monitoring UIs for people (the dashboard links to them; null: not configured). */
  links: { prometheus: string | null; grafana: string | null };
  /**
   * Whether this process also runs retrain jobs: `in-process` (default; one process does all),
   * or `off` (an API process; run `npm run trainer` beside it).
   */
  trainer: 'in-process' | 'off';
  /** Learn from each feedback at once (tasks that allow it); off freezes live models between retrains. */
  onlineLearning: boolean;
  /** Off: feedback starts no retrain by itself (accuracy or count); admins and alerts still can. */
  autoRetrain: boolean;
  /** Share of predictions answered with feedbackRequested (0..1), unless a task sets its own. */
  auditSampleRate: number;
  /** Input drift: predictions sampled per driftHistory bucket; how long a /metrics scrape reuses a drift report (seconds, 0: never). */
  drift: { historySample: number; scrapeCacheSeconds: number };
  /** First retry delay of a failed retrain, doubled at each attempt (seconds). */
  retrainRetryDelaySeconds: number;
  /** Bearer token monitoring sends with alert webhooks; `null`: only the admin token is accepted. */
  webhookToken: string | null;
  /** Grafana's HMAC secret; when set, alert webhooks must carry a valid signature too. */
  webhookHmacSecret: string | null;
  /** Grafana signatures must cover a timestamp (else a captured request could be replayed forever). */
  webhookHmacRequireTimestamp: boolean;
  adminToken: string;
  /**
   * `keys`: predictions, feedback, outcomes and operational reads need an API key with the scope;
   * `open`: anonymous callers may do those. Default: `keys` with a real DATABASE_URL, `open` on the
   * embedded database (for trying Relearn out). Admin operations and webhooks always need credentials.
   */
  authMode: 'open' | 'keys';
  /** Off: introspection (`__schema`, `__type`) is refused. */
  graphqlIntrospection: boolean;
  /** Plain JSON POSTs to /graphql skip yoga's WHATWG request pipeline (http/lean-graphql.ts); off: every request through yoga. */
  graphqlFastPath: boolean;
  /**
   * How prediction transactions commit on a real PostgreSQL: `async` (synchronous_commit off for
   * them alone: a crash of PostgreSQL itself can lose the last fraction of a second of
   * acknowledged predictions) or `sync`. Feedback always commits synchronously; the embedded
   * database always commits predictions synchronously (there a process crash is a database crash).
   */
  predictionCommit: 'sync' | 'async';
  /** Per principal and minute, per process (0 = no limit): predictions (batch inputs count), feedback, outcome rows. */
  rateLimits: { predictions: number; feedback: number; outcomes: number };
  /** Most rows one recordOutcomes call may carry. */
  maxOutcomesPerCall: number;
  /** Most predictions one `predictions` page may hold; most tokens one explanation may list. */
  predictionList: { maxPage: number; maxExplanationTokens: number };
  /** True when `ADMIN_TOKEN` was unset and a token was generated for this run (so it is printed). */
  adminTokenGenerated: boolean;
  /** Extra task definition files or folders, on top of the built-in tasks. */
  taskPaths: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logPretty: boolean;
  /** How long a burst of feedback is gathered before `metricsUpdated` pushes (ms). */
  metricsPushIntervalMs: number;
  /** Largest request body accepted, in bytes (with or without Content-Length). */
  maxBodyBytes: number;
  /** The recent-prediction cache (feedback reads its prediction from it): oldest evicted past either bound. */
  recentPredictions: { maxCount: number; maxBytes: number };
  /**
   * `prediction` is partitioned by time (database/partitions.ts): the span of one partition
   * (PREDICTION_PARTITION_SECONDS) and the retention (PREDICTION_RETENTION_DAYS; null: off, every
   * prediction kept): partitions wholly older than it are dropped unless feedback still needs them.
   */
  partitions: { spanSeconds: number; retentionDays: number | null };
  shutdownTimeoutMs: number;
  /** The trust gate (server/src/trust/): sources that always teach, and what earning trust takes. */
  trust: {
    /** Principal names (and `anonymous`) whose feedback passes the gate at once; the admin always does. */
    trustedSources: string[];
    /** Inputs a source must have labelled that a trusted source labelled too, before it can earn trust. */
    minEvidence: number;
    /** Lower end of the 95% Wilson interval of its agreement with trusted labels it needs. */
    minAgreement: number;
  };
}

const boolish = z.enum(['1', '0', 'true', 'false', 'yes', 'no']).transform((v) => v === '1' || v === 'true' || v === 'yes');

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_DIRECT_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  BOOTSTRAP_FIT_CACHE_DIR: z.string().min(1).optional(),
  DATASET_CHUNK_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .max(512 * 1024 * 1024)
    .default(8 * 1024 * 1024),
  S3_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  S3_ACCESS_KEY: z.string().optional(),
  S3_SECRET_KEY: z.string().optional(),
  // S3 bucket naming rules: 3-63 of [a-z0-9.-], starting and ending with a letter or digit.
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name (3-63 of a-z 0-9 . -)')
    .default('relearn'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  MLFLOW_TRACKING_URI: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  PROMETHEUS_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  GRAFANA_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  TRAINER: z.enum(['in-process', 'off']).default('in-process'),
  ONLINE_LEARNING: z.enum(['on', 'off']).default('on'),
  AUTO_RETRAIN: z.enum(['on', 'off']).default('on'),
  AUDIT_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(0.02),
  DRIFT_HISTORY_SAMPLE: z.coerce.number().int().min(10).max(5000).default(200),
  DRIFT_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  RETRAIN_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(5),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  AUTH_MODE: z.enum(['open', 'keys']).optional(),
  GRAPHQL_INTROSPECTION: z.enum(['on', 'off']).default('on'),
  GRAPHQL_FAST_PATH: z.enum(['on', 'off']).default('on'),
  PREDICTION_COMMIT: z.enum(['sync', 'async']).default('sync'),
  RATE_LIMITS: z.enum(['on', 'off']).default('on'),
  RATE_LIMIT_PREDICTIONS_PER_MINUTE: z.coerce.number().int().min(0).default(60_000),
  RATE_LIMIT_FEEDBACK_PER_MINUTE: z.coerce.number().int().min(0).default(6_000),
  RATE_LIMIT_OUTCOMES_PER_MINUTE: z.coerce.number().int().min(0).default(60_000),
  MAX_OUTCOMES_PER_CALL: z.coerce.number().int().min(1).max(100_000).default(1_000),
  PREDICTION_PAGE_MAX: z.coerce.number().int().min(1).max(1_000).default(100),
  EXPLANATION_MAX_TOKENS: z.coerce.number().int().min(0).max(500).default(50),
  WEBHOOK_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  WEBHOOK_HMAC_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  WEBHOOK_HMAC_TIMESTAMP: z.enum(['required', 'optional']).default('required'),
  TASKS: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: boolish.optional(),
  METRICS_PUSH_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(250),
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(2 * 1024 * 1024),
  RECENT_PREDICTIONS_MAX_COUNT: z.coerce.number().int().min(0).default(10_000),
  RECENT_PREDICTIONS_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(64 * 1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  // A minute at least (partition names are to the minute); 30 days at most.
  PREDICTION_PARTITION_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(86_400),
  // Fractions of a day allowed (the partitions bench retains minutes); unset or `off`: no retention.
  PREDICTION_RETENTION_DAYS: z.union([z.literal('off'), z.coerce.number().positive().max(36_500)]).optional(),
  TRUSTED_SOURCES: z.string().default(''),
  TRUST_MIN_EVIDENCE: z.coerce.number().int().min(1).default(30),
  TRUST_MIN_AGREEMENT: z.coerce.number().gt(0).max(1).default(0.9),
});

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws a ConfigError listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings (e.g. `DATABASE_URL=` in an .env file) mean "unset".
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  // Checked on the raw values so that these are listed together with every other problem.
  if (cleaned.S3_ENDPOINT) {
    for (const key of ['S3_ACCESS_KEY', 'S3_SECRET_KEY'] as const) {
      if (!cleaned[key]) problems.push(`${key}: required when S3_ENDPOINT is set`);
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL ?? null,
    databaseDirectUrl: e.DATABASE_DIRECT_URL ?? null,
    dataDir: resolve(e.DATA_DIR),
    bootstrapFitCacheDir: e.BOOTSTRAP_FIT_CACHE_DIR ? resolve(e.BOOTSTRAP_FIT_CACHE_DIR) : null,
    datasetChunkBytes: e.DATASET_CHUNK_BYTES,
    s3: e.S3_ENDPOINT
      ? {
          endpoint: new URL(e.S3_ENDPOINT).origin,
          accessKey: e.S3_ACCESS_KEY!,
          secretKey: e.S3_SECRET_KEY!,
          bucket: e.S3_BUCKET,
          region: e.S3_REGION,
        }
      : null,
    mlflowTrackingUri: e.MLFLOW_TRACKING_URI ? e.MLFLOW_TRACKING_URI.replace(/\/+$/, '') : null,
    links: { prometheus: e.PROMETHEUS_URL ?? null, grafana: e.GRAFANA_URL ?? null },
    trainer: e.TRAINER,
    retrainRetryDelaySeconds: e.RETRAIN_RETRY_DELAY_SECONDS,
    onlineLearning: e.ONLINE_LEARNING === 'on',
    autoRetrain: e.AUTO_RETRAIN === 'on',
    auditSampleRate: e.AUDIT_SAMPLE_RATE,
    drift: { historySample: e.DRIFT_HISTORY_SAMPLE, scrapeCacheSeconds: e.DRIFT_CACHE_SECONDS },
    webhookToken: e.WEBHOOK_TOKEN ?? null,
    webhookHmacSecret: e.WEBHOOK_HMAC_SECRET ?? null,
    webhookHmacRequireTimestamp: e.WEBHOOK_HMAC_TIMESTAMP === 'required',
    adminToken: e.ADMIN_TOKEN ?? randomBytes(24).toString('base64url'),
    authMode: e.AUTH_MODE ?? (e.DATABASE_URL ? 'keys' : 'open'),
    graphqlIntrospection: e.GRAPHQL_INTROSPECTION === 'on',
    graphqlFastPath: e.GRAPHQL_FAST_PATH === 'on',
    predictionCommit: e.PREDICTION_COMMIT,
    // RATE_LIMITS=off: every limit 0 (load tests and benchmarks).
    rateLimits:
      e.RATE_LIMITS === 'off'
        ? { predictions: 0, feedback: 0, outcomes: 0 }
        : { predictions: e.RATE_LIMIT_PREDICTIONS_PER_MINUTE, feedback: e.RATE_LIMIT_FEEDBACK_PER_MINUTE, outcomes: e.RATE_LIMIT_OUTCOMES_PER_MINUTE },
    maxOutcomesPerCall: e.MAX_OUTCOMES_PER_CALL,
    predictionList: { maxPage: e.PREDICTION_PAGE_MAX, maxExplanationTokens: e.EXPLANATION_MAX_TOKENS },
    adminTokenGenerated: e.ADMIN_TOKEN === undefined,
    taskPaths: e.TASKS
      ? e.TASKS.split(',')
          .map((p) => resolve(p.trim()))
          .filter(Boolean)
      : [],
    logLevel: e.LOG_LEVEL,
    logPretty: e.LOG_PRETTY ?? Boolean(process.stdout.isTTY),
    metricsPushIntervalMs: e.METRICS_PUSH_INTERVAL_MS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    recentPredictions: { maxCount: e.RECENT_PREDICTIONS_MAX_COUNT, maxBytes: e.RECENT_PREDICTIONS_MAX_BYTES },
    partitions: {
      spanSeconds: e.PREDICTION_PARTITION_SECONDS,
      retentionDays: e.PREDICTION_RETENTION_DAYS === undefined || e.PREDICTION_RETENTION_DAYS === 'off' ? null : e.PREDICTION_RETENTION_DAYS,
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    trust: {
      trustedSources: e.TRUSTED_SOURCES.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      minEvidence: e.TRUST_MIN_EVIDENCE,
      minAgreement: e.TRUST_MIN_AGREEMENT,
    },
  };
}
