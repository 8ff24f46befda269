/**
 * npm run simulate -- --model fraud --scenario drift --count 500
 *
 * Parses the options, draws progress on stderr and prints the summary on stdout; the
 * simulation itself is runSimulation() in ../simulation/simulation.ts.
 */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import Table from 'cli-table3';
import { z } from 'zod';
import { HONEST_SCENARIO_DOCS, HONEST_SCENARIOS, renderHonestSummary, runHonestSimulation } from '../simulation/honest-simulation.js';
import { POOR_FRAUD_RATE, SCENARIO_DOCS, SCENARIOS, SIMULATION_MODELS } from '../simulation/scenarios.js';
import { normaliseUrl, runSimulation, SimulationError, type ServerMetrics, type SimulationProgress, type SimulationSummary } from '../simulation/simulation.js';

const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';
const MAX_COUNT = 1_000_000;
const MAX_CONCURRENCY = 256;

function helpText(): string {
  const scenarios = SCENARIOS.map((name) => {
    const d = SCENARIO_DOCS[name];
    return [`  ${name.padEnd(9)} ${d.summary}`, `            fraud: ${d.fraud}`, `            spam:  ${d.spam}`].join('\n');
  }).join('\n');
  return `Usage: npm run simulate -- --model fraud|spam [options]

Sends predictions to a running Relearn through its GraphQL API over HTTP and answers them with
feedback. The feedback always reports the true label (from the fraud generator or the
SpamAssassin corpus), so the live accuracy the server computes is real; scenarios only choose
which inputs are sent. Progress goes to stderr, the summary to stdout.

Options:
  --model fraud|spam     the model to exercise (required)
  --scenario NAME        ${SCENARIOS.join(' | ')} (default good; see below)
  --count N              predictions to send, 1..${MAX_COUNT} (default 200)
  --concurrency N        requests in flight, 1..${MAX_CONCURRENCY} (default 8)
  --feedback-rate R      share of predictions that get feedback, 0..1 (default 1)
  --seed N               makes the inputs reproducible, 0..4294967295 (default random; shown in the summary)
  --url URL              GraphQL endpoint (default $RELEARN_URL, else ${DEFAULT_URL});
                         a bare http://host:port means its /graphql
  --honest NAME          honest-accuracy scenario (fraud; --count predictions per window): ${HONEST_SCENARIOS.join(' | ')}
  --windows N            windows of an --honest run (default 6)
  --token KEY            an API key with PREDICT and FEEDBACK, for AUTH_MODE=keys (default $RELEARN_TOKEN)
  --quiet                no progress bar and no start line: a progress line every 10% instead
  --json                 print the summary as JSON on stdout instead of tables
  -h, --help             show this help

Scenarios (feedback = true label in all of them):
${scenarios}

Honest-accuracy scenarios (--honest; the server needs AUDIT_SAMPLE_RATE > 0, and TRUSTED_SOURCES
naming the simulator's principal so the trust gate does not quarantine its complaints):
${HONEST_SCENARIOS.map((n) => `  ${n.padEnd(12)} ${HONEST_SCENARIO_DOCS[n]}`).join('\n')}

  The fraud "poor" pool is drift-1 traffic with ${POOR_FRAUD_RATE * 100}% fraud. Every feedback also teaches the
  live model (online learning), so in poor, recovery and drift runs the model may adapt as the
  run goes on: compare the run accuracy per quarter.

The summary shows predictions and feedback sent, errors by code, the model's accuracy on this
run's rows per quarter of the run, the server's live metrics afterwards (lifetime and the last
100 feedback), the live version before and after, throughput and p50/p99 request latency.

Examples:
  npm run simulate -- --model fraud
  npm run simulate -- --model fraud --scenario drift --count 500
  npm run simulate -- --model spam --scenario recovery --count 1000 --feedback-rate 0.5 --seed 7
  RELEARN_URL=http://relearn:4000/graphql npm run simulate -- --model spam --json > summary.json

Exit codes: 0 every request succeeded, 1 a request failed (or the run was interrupted),
2 invalid options.
`;
}

// ---- argument parsing ---------------------------------------------------------------------

const VALUE_OPTIONS = {
  model: 'model',
  scenario: 'scenario',
  count: 'count',
  concurrency: 'concurrency',
  'feedback-rate': 'feedbackRate',
  seed: 'seed',
  url: 'url',
  token: 'token',
  honest: 'honest',
  windows: 'windows',
} as const;
const FLAG_OPTIONS = { quiet: 'quiet', json: 'json', help: 'help' } as const;
const FLAG_OF_KEY: Record<string, string> = Object.fromEntries(
  [...Object.entries(VALUE_OPTIONS), ...Object.entries(FLAG_OPTIONS)].map(([flag, key]) => [key, `--${flag}`]),
);
const PARSE_OPTIONS = {
  ...Object.fromEntries(Object.keys(VALUE_OPTIONS).map((name) => [name, { type: 'string' as const }])),
  ...Object.fromEntries(Object.keys(FLAG_OPTIONS).map((name) => [name, { type: 'boolean' as const }])),
  help: { type: 'boolean' as const, short: 'h' },
};

interface Tokens {
  raw: Record<string, string | boolean>;
  problems: string[];
}

/**
 * Splits argv into options with node:util parseArgs; unknown options, positionals and missing
 * values are problems (not strict, so that every one of them is reported, not only the first).
 * A value option takes the next argument even if it starts with "-" (so "--count -1" reads -1).
 */
function tokenize(argv: readonly string[]): Tokens {
  const raw: Record<string, string | boolean> = {};
  const problems: string[] = [];
  const { tokens } = parseArgs({ args: [...argv], options: PARSE_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'positional') {
      problems.push(`unexpected argument "${token.value}" (options start with --)`);
    } else if (token.kind === 'option') {
      const name = token.name;
      if (name in VALUE_OPTIONS) {
        if (token.value === undefined) problems.push(`--${name}: needs a value`);
        else raw[VALUE_OPTIONS[name as keyof typeof VALUE_OPTIONS]] = token.value;
      } else if (name in FLAG_OPTIONS) {
        if (token.inlineValue) problems.push(`--${name}: takes no value`);
        else raw[FLAG_OPTIONS[name as keyof typeof FLAG_OPTIONS]] = true;
      } else {
        problems.push(`unknown option ${token.rawName}`);
      }
    }
  }
  return { raw, problems };
}

const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^[+-]?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const OptionsSchema = z.object({
  model: z.enum(SIMULATION_MODELS, {
    error: (issue) => (issue.input === undefined ? `is required: ${SIMULATION_MODELS.join(' or ')}` : `must be ${SIMULATION_MODELS.join(' or ')}`),
  }),
  scenario: z.enum(SCENARIOS, { error: () => `must be one of ${SCENARIOS.join(', ')}` }).default('good'),
  count: wholeNumber(1, MAX_COUNT).default(200),
  concurrency: wholeNumber(1, MAX_CONCURRENCY).default(8),
  feedbackRate: z
    .string()
    .trim()
    .regex(/^(\d+(\.\d*)?|\.\d+)$/, 'must be a number from 0 to 1')
    .transform(Number)
    .pipe(z.number().max(1, 'must be at most 1'))
    .default(1),
  seed: wholeNumber(0, 2 ** 32 - 1).optional(),
  url: z
    .string()
    .refine((s) => {
      try {
        return ['http:', 'https:'].includes(new URL(s).protocol);
      } catch {
        return false;
      }
    }, 'must be an http(s) URL, e.g. http://127.0.0.1:4000/graphql')
    .transform(normaliseUrl),
  token: z.string().min(1).optional(),
  honest: z.enum(HONEST_SCENARIOS, { error: () => `must be one of ${HONEST_SCENARIOS.join(', ')}` }).optional(),
  windows: wholeNumber(1, 100).default(6),
  quiet: z.boolean().default(false),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});
type CliOptions = z.output<typeof OptionsSchema>;

function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv): { options?: CliOptions; help: boolean; problems: string[] } {
  const { raw, problems } = tokenize(argv);
  if (raw.help) return { help: true, problems: [] };
  const parsed = OptionsSchema.safeParse({ url: env.RELEARN_URL || DEFAULT_URL, token: env.RELEARN_TOKEN || undefined, ...raw });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const given = raw[key];
      problems.push(`${FLAG_OF_KEY[key] ?? key}: ${issue.message}${typeof given === 'string' ? ` (got "${given}")` : ''}`);
    }
  }
  return problems.length > 0 || !parsed.success ? { help: false, problems } : { options: parsed.data, help: false, problems };
}

// ---- output ---------------------------------------------------------------------------------

const DASH = '–';
const num = (x: number | null | undefined, digits = 3) => (x === null || x === undefined ? DASH : x.toFixed(digits));
const ms = (x: number | null) => (x === null ? DASH : `${x.toFixed(1)} ms`);
const int = (x: number) => x.toLocaleString('en-US');

function table(head: string[] = []) {
  const color = process.stdout.isTTY === true;
  return new Table({ head, style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [], compact: true } });
}

function render(s: SimulationSummary): string {
  const out: string[] = [];
  const errorCount = Object.values(s.errors).reduce((a, b) => a + b, 0);
  const run = table(['Simulation', `${s.model} / ${s.scenario}`]);
  run.push(
    ['Server', s.url],
    ['Seed', String(s.seed)],
    ['Rows done', `${int(s.rowsDone)} of ${int(s.count)}${s.interrupted ? ' (stopped early)' : ''}`],
    ['Predictions sent', `${int(s.predictionsSent)}${s.predictionsFailed ? ` (${int(s.predictionsFailed)} failed)` : ''}`],
    [
      'Feedback sent',
      `${int(s.feedbackSent)}${s.feedbackFailed ? ` (${int(s.feedbackFailed)} failed)` : ''}${s.feedbackRetries ? `, ${int(s.feedbackRetries)} retries` : ''}`,
    ],
    [
      'Errors',
      errorCount === 0
        ? 'none'
        : Object.entries(s.errors)
            .map(([code, n]) => `${code} ${int(n)}`)
            .join(', '),
    ],
    ['Run accuracy', `${num(s.runAccuracy)}  (${s.positiveLabel} recall ${num(s.runRecall)})`],
    [
      'Live version',
      `${s.liveVersionBefore ?? DASH} → ${s.liveVersionAfter ?? DASH}  (served: ${
        Object.entries(s.versionsSeen)
          .map(([v, n]) => `v${v} ${int(n)}`)
          .join(', ') || DASH
      })`,
    ],
    ['Duration', `${(s.durationMs / 1000).toFixed(2)} s`],
    ['Throughput', `${s.throughput.rowsPerSecond.toFixed(1)} rows/s, ${s.throughput.requestsPerSecond.toFixed(1)} requests/s`],
    ['Latency predict p50 / p99', `${ms(s.latencyMs.predict.p50)} / ${ms(s.latencyMs.predict.p99)}`],
    ['Latency feedback p50 / p99', `${ms(s.latencyMs.feedback.p50)} / ${ms(s.latencyMs.feedback.p99)}`],
  );
  out.push(run.toString());

  if (errorCount > 0) {
    const errors = table(['Error code', 'Count', 'Example']);
    for (const [code, n] of Object.entries(s.errors).sort((a, b) => b[1] - a[1])) {
      const sample = s.errorSamples.find((e) => e.code === code);
      errors.push([code, int(n), sample ? `${sample.operation}: ${sample.message.slice(0, 80)}` : '']);
    }
    out.push(errors.toString());
  }

  const quarters = table(['Run quarter', 'Rows', 'Inputs', 'Scored', 'Run accuracy', `${s.positiveLabel} recall`, 'tp / fp / tn / fn']);
  for (const q of s.quarters) {
    const c = q.confusion;
    quarters.push([
      `Q${q.quarter}`,
      `${q.from}–${Math.max(q.from, q.to - 1)}`,
      q.phase,
      int(q.scored),
      num(q.accuracy),
      num(q.recall),
      `${c.tp} / ${c.fp} / ${c.tn} / ${c.fn}`,
    ]);
  }
  out.push(quarters.toString());

  const live = table(['Server live metrics', 'Before (lifetime)', 'After (lifetime)', 'After (last 100 feedback)']);
  const cols: (ServerMetrics | undefined)[] = [s.server.before.lifetime, s.server.after?.lifetime, s.server.after?.lastFeedback100];
  const row = (name: string, f: (m: ServerMetrics) => string) => live.push([name, ...cols.map((m) => (m ? f(m) : DASH))]);
  row('Accuracy', (m) => num(m.accuracy));
  row('Precision', (m) => num(m.precision));
  row('Recall', (m) => num(m.recall));
  row('F1', (m) => num(m.f1));
  row('Confusion tp / fp / tn / fn', (m) => `${m.confusion.tp} / ${m.confusion.fp} / ${m.confusion.tn} / ${m.confusion.fn}`);
  row('Feedback', (m) => int(m.feedbackCount));
  row('Predictions', (m) => int(m.predictionCount));
  row('Live version', (m) => String(m.liveVersion?.version ?? DASH));
  out.push(live.toString());
  out.push(
    s.interrupted
      ? `STOPPED EARLY: ${s.interruptReason}; ${int(errorCount)} request(s) failed`
      : s.failed
        ? `FAILED: ${int(errorCount)} request(s) failed`
        : 'OK: every request succeeded',
  );
  return out.join('\n') + '\n';
}

function progressLine(p: SimulationProgress): string {
  const pct = Math.floor((p.done * 100) / p.total);
  return `simulate: ${String(pct).padStart(3)}%  ${int(p.done)}/${int(p.total)}  ${p.rate.toFixed(1)} rows/s  accuracy ${num(p.accuracy)}  errors ${p.errors}`;
}

// ---- main -------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const { options, help, problems } = parseOptions(process.argv.slice(2), process.env);
  if (help) {
    process.stdout.write(helpText());
    return 0;
  }
  if (!options) {
    process.stderr.write(`simulate: invalid options:\n${problems.map((p) => `  - ${p}`).join('\n')}\nRun with --help for usage.\n`);
    return 2;
  }
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  if (options.honest) {
    // Honest-accuracy scenarios (fraud): --count predictions per window, --windows windows.
    const summary = await runHonestSimulation({
      url: options.url,
      scenario: options.honest,
      windows: options.windows,
      perWindow: options.count,
      seed,
      token: options.token ?? null,
    });
    process.stdout.write(options.json ? JSON.stringify(summary, null, 2) + '\n' : renderHonestSummary(summary) + '\n');
    return 0;
  }
  const useBar = !options.quiet && process.stderr.isTTY === true;
  if (!options.quiet) {
    process.stderr.write(`simulate: ${options.model} / ${options.scenario}, ${int(options.count)} rows, seed ${seed} → ${options.url}\n`);
  }

  let bar: cliProgress.SingleBar | undefined;
  let nextDecile = 1;
  const onProgress = (p: SimulationProgress) => {
    if (bar) {
      bar.update(p.done, { rate: p.rate.toFixed(1), accuracy: num(p.accuracy), errors: p.errors });
      return;
    }
    while (nextDecile <= 10 && p.done * 10 >= nextDecile * p.total) {
      nextDecile++;
      process.stderr.write(progressLine(p) + '\n');
    }
  };
  if (useBar) {
    bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: '{bar} {value}/{total} | {rate} rows/s | accuracy {accuracy} | errors {errors} | ETA {eta_formatted}',
        hideCursor: true,
        fps: 10,
        etaBuffer: 200,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(options.count, 0, { rate: '0.0', accuracy: DASH, errors: 0 });
  }

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write('\nsimulate: stopping after the requests in flight (Ctrl-C again to quit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);

  let summary: SimulationSummary;
  try {
    summary = await runSimulation(
      {
        model: options.model,
        scenario: options.scenario,
        count: options.count,
        concurrency: options.concurrency,
        feedbackRate: options.feedbackRate,
        seed,
        url: options.url,
        token: options.token ?? null,
      },
      { onProgress, signal: controller.signal },
    );
  } catch (error) {
    bar?.stop();
    if (error instanceof SimulationError) {
      process.stderr.write(`simulate: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSigint);
  }
  bar?.stop();
  process.stdout.write(options.json ? JSON.stringify(summary, null, 2) + '\n' : render(summary));
  return summary.failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`simulate: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
