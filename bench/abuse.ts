// Abuse benchmark (`npm run bench:abuse`; `--quick` for a short run, `--help` for options).
//
// A well-behaved client predicts in an open loop at a fixed rate; its latency is measured idle,
// then while an abusive client sends, as fast as answers come back, each document of the
// hostile-input issue:
//   fields       `{ models { name name … ×4,800+ } }` (the count varies so no cache helps)
//   batch        predictBatch of 1,000 × `modelVersion { liveMetrics { accuracy } }`
//   aliases      8 clients × 20 aliases of `metrics` (distinct windows)
//   aliases-max  8 clients × the most `metrics` aliases the cost limit lets through (9)
// Relearn runs in its own child process (buildApp on a private, durable PostgreSQL seeded with
// predictions and feedback, so metrics aggregates have rows to scan); the abusive clients run
// in another child, so their work does not delay the measuring client's event loop.
// Conventions follow bench/predict.ts. Traffic to 127.0.0.1 only; every loop bounded in time.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { forkChild, runBenchmark, stopChildren } from './lib/children.js';
import { openLoop as openLoopOf } from './lib/load.js';
import { startBenchPostgres } from './lib/postgres.js';
import { fmt as format, pct, progress, table, writeResults } from './lib/report.js';
import { fraudInput, HEADERS, predictBodies, predictDocument } from './lib/workload.js';

const SCRIPT = fileURLToPath(import.meta.url);
const PREDICT_BODIES = predictBodies(predictDocument());

// ---------------------------------------------------------------------------------------------
// The abusive documents. Each call gives the next body (some vary per request).

type Attack = 'fields' | 'batch' | 'aliases' | 'aliases-max';
const ATTACKS: Record<Attack, { clients: number; describe: string; body: (i: number) => string }> = {
  fields: {
    clients: 1,
    describe: '{ models { name ×4,800+i } }',
    body: (i) => JSON.stringify({ query: `{ models { ${'name '.repeat(4800 + (i % 500))} } }` }),
  },
  batch: {
    clients: 1,
    describe: 'predictBatch 1,000 × modelVersion { liveMetrics { accuracy } }',
    body: (() => {
      const inputs = Array.from({ length: 1000 }, (_, k) => ({ fraud: fraudInput(k) }));
      const text = JSON.stringify({
        query: `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id modelVersion { liveMetrics { accuracy } } } }`,
        variables: { inputs },
      });
      return () => text;
    })(),
  },
  aliases: {
    clients: 8,
    describe: '8 clients × 20 aliases of metrics',
    body: (i) => JSON.stringify({ query: metricsAliases(20, i) }),
  },
  'aliases-max': {
    clients: 8,
    describe: '8 clients × 9 aliases of metrics (the most the cost limit allows)',
    body: (i) => JSON.stringify({ query: metricsAliases(9, i) }),
  },
};
function metricsAliases(n: number, i: number) {
  return `{ ${Array.from({ length: n }, (_, k) => `m${k}: metrics(model: "fraud", window: { lastFeedback: ${1000 + ((i * n + k) % 50_000)} }) { accuracy feedbackCount predictionCount }`).join(' ')} }`;
}

// ---------------------------------------------------------------------------------------------
// Children: the Relearn server, and the abusive clients.

type Role = 'relearn' | 'abuser';
interface AbuseStats {
  sent: number;
  answered: number;
  codes: Record<string, number>;
  p50: number;
  max: number;
}
type FromChild = { type: 'ready'; port: number } | { type: 'started' } | { type: 'stats'; stats: AbuseStats };

async function relearnChild(): Promise<void> {
  process.on('disconnect', () => process.exit(1));
  const { buildApp } = await import('../server/src/app.js');
  const { loadConfig } = await import('../server/src/config.js');
  const app = await buildApp(
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: process.env.BENCH_DATA_DIR!,
      DATABASE_URL: process.env.BENCH_DATABASE_URL!,
      AUTH_MODE: 'open',
      RATE_LIMITS: 'off',
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
      LOG_LEVEL: 'error',
      LOG_PRETTY: 'false',
      TRAINER: 'off',
    }),
  );
  const port = await app.start();
  await app.modelsReady;
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'stop') void app.stop().finally(() => process.exit(0));
  });
  process.send!({ type: 'ready', port } satisfies FromChild);
}

async function abuserChild(): Promise<void> {
  process.on('disconnect', () => process.exit(1));
  const attack = ATTACKS[process.env.BENCH_ATTACK as Attack];
  const port = Number(process.env.BENCH_PORT);
  const until = Date.now() + Number(process.env.BENCH_SECONDS) * 1000;
  const agent = new Agent({ keepAlive: true, maxSockets: attack.clients });
  const stats: AbuseStats = { sent: 0, answered: 0, codes: {}, p50: 0, max: 0 };
  const latencies: number[] = [];
  let stopping = false;
  process.on('message', (msg: { cmd: string }) => {
    if (msg.cmd === 'stop') stopping = true;
  });
  const one = (body: string) =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = httpRequest(
        { host: '127.0.0.1', port, path: '/graphql', method: 'POST', agent, headers: { ...HEADERS, 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            latencies.push(performance.now() - t0);
            stats.answered++;
            const code = /"code":"([A-Z_]+)"/.exec(text)?.[1] ?? (res.statusCode === 200 ? 'ok' : `HTTP ${res.statusCode}`);
            const limit = /"limit":"([a-z]+)"/.exec(text)?.[1];
            const key = limit ? `${code}/${limit}` : code;
            stats.codes[key] = (stats.codes[key] ?? 0) + 1;
            resolve();
          });
        },
      );
      req.setTimeout(60_000, () => req.destroy());
      req.on('error', () => {
        stats.codes.network = (stats.codes.network ?? 0) + 1;
        resolve();
      });
      req.end(body);
    });
  let i = 0;
  process.send!({ type: 'started' } satisfies FromChild);
  await Promise.all(
    Array.from({ length: attack.clients }, async () => {
      while (!stopping && Date.now() < until) {
        stats.sent++;
        await one(attack.body(i++));
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  stats.p50 = latencies[Math.floor(latencies.length / 2)] ?? NaN;
  stats.max = latencies.at(-1) ?? NaN;
  agent.destroy();
  process.send!({ type: 'stats', stats } satisfies FromChild, undefined, {}, () => process.exit(0));
}

const startChild = (role: Role, env: Record<string, string>) => forkChild<FromChild>(SCRIPT, role, env);

// ---------------------------------------------------------------------------------------------
// The measuring client: a true open loop (request i due at t0 + i/rate; latency from due time).

async function openLoop(port: number, rate: number, seconds: number) {
  let failures = 0;
  let firstFailure: string | undefined;
  const { samples } = await openLoopOf({
    port,
    rate,
    seconds,
    bodies: PREDICT_BODIES,
    maxSockets: 64,
    timeoutMs: 30_000,
    onAnswer: (status, text) => {
      if (status !== 200 || text.includes('"errors"') || !text.includes('"predict":{"id"')) {
        failures++;
        firstFailure ??= `HTTP ${status}: ${text.slice(0, 200)}`;
      }
    },
    onError: (e) => {
      failures++;
      firstFailure ??= e.message;
    },
  }).done;
  const fromDue = samples.map((x) => x.fromDue);
  return { requests: Math.round(rate * seconds), failures, firstFailure, p50: pct(fromDue, 0.5), p99: pct(fromDue, 0.99), max: pct(fromDue, 1) };
}

async function gql(port: number, query: string, variables: Record<string, unknown>) {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ query, variables }) });
  const json = (await res.json()) as { data?: any; errors?: unknown };
  if (json.errors) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(json.errors).slice(0, 300)}`);
  return json.data;
}

const fmt = (n: number, digits = 1) => format(n, digits);

async function main(): Promise<number> {
  const { values: args } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rate: { type: 'string', default: '50' },
      seconds: { type: 'string' },
      predictions: { type: 'string' },
      attacks: { type: 'string', default: Object.keys(ATTACKS).join(',') },
      label: { type: 'string', default: '' },
      help: { type: 'boolean', default: false },
    },
  });
  if (args.help) {
    console.log(`npm run bench:abuse -- [--quick] [--rate R=50 predict/s] [--seconds S=10 per phase] [--predictions N=40000 seeded]
                       [--attacks ${Object.keys(ATTACKS).join(',')}] [--label TEXT (names the results file)]`);
    return 0;
  }
  const rate = Number(args.rate);
  const seconds = Number(args.seconds ?? (args.quick ? 5 : 10));
  const seeded = Number(args.predictions ?? (args.quick ? 10_000 : 40_000));
  const attacks = args.attacks.split(',').map((a) => a.trim()) as Attack[];
  for (const a of attacks) if (!ATTACKS[a]) throw new Error(`unknown attack ${a}`);

  const cpus = os.cpus();
  console.log(
    `Relearn abuse benchmark  ${new Date().toISOString()}${args.quick ? '  (--quick: short, indicative only)' : ''}${args.label ? `  [${args.label}]` : ''}`,
  );
  console.log(
    `machine: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores, node ${process.version}, load ${os
      .loadavg()
      .map((l) => fmt(l, 2))
      .join(' ')}`,
  );
  console.log(`well-behaved client: predict (fraud) open loop at ${rate}/s, ${seconds} s per phase, latency from due time`);

  const dataDir = mkdtempSync(join(os.tmpdir(), 'relearn-abuse-data-'));
  let pg: Awaited<ReturnType<typeof startBenchPostgres>> | undefined;
  const children: ChildProcess[] = [];
  try {
    progress('starting PostgreSQL (durable) and Relearn');
    pg = await startBenchPostgres('relearn_abuse');
    const dbUrl = pg.url;
    const relearn = startChild('relearn', { BENCH_DATABASE_URL: dbUrl, BENCH_DATA_DIR: dataDir });
    children.push(relearn.proc);
    const { port } = await relearn.next('ready');

    progress(`seeding ${seeded} fraud predictions, feedback on half of them`);
    for (let i = 0; i < seeded; i += 1000) {
      const batch = await gql(port, `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id label } }`, {
        inputs: Array.from({ length: Math.min(1000, seeded - i) }, (_, k) => ({ fraud: fraudInput(i + k) })),
      });
      const ids = (batch.predictBatch as { id: string }[]).filter((_, k) => k % 2 === 0);
      for (let k = 0; k < ids.length; k += 50) {
        await Promise.all(
          ids
            .slice(k, k + 50)
            .map((p, j) =>
              gql(port, `mutation($i: FeedbackInput!) { submitFeedback(input: $i) { id } }`, { i: { predictionId: p.id, correct: (k + j) % 4 !== 0 } }),
            ),
        );
      }
    }

    progress('warm-up');
    await openLoop(port, rate, 3);
    const phases: { phase: string; describe: string; predict: Awaited<ReturnType<typeof openLoop>>; abuse?: AbuseStats }[] = [];
    progress(`idle ${seconds} s`);
    phases.push({ phase: 'idle', describe: 'no other client', predict: await openLoop(port, rate, seconds) });
    for (const attack of attacks) {
      progress(`${attack}: ${ATTACKS[attack].describe}`);
      // Runs until told to stop (bounded: 10 minutes), however long the measured phase takes.
      const abuser = startChild('abuser', { BENCH_ATTACK: attack, BENCH_PORT: String(port), BENCH_SECONDS: '600' });
      children.push(abuser.proc);
      await abuser.next('started');
      await new Promise((r) => setTimeout(r, 1000)); // let the attack reach its steady state
      const predict = await openLoop(port, rate, seconds);
      const stats = abuser.next('stats');
      abuser.proc.send({ cmd: 'stop' });
      phases.push({ phase: attack, describe: ATTACKS[attack].describe, predict, abuse: (await stats).stats });
    }

    const idle = phases[0]!.predict;
    console.log('');
    console.log('Predict latency of the well-behaved client (ms from due time), idle and beside each abusive client');
    console.log(
      table([
        ['phase', 'p50', 'p99', 'max', 'p50 / idle', 'failures', 'abusive requests', 'abusive p50 ms', 'answers to the abusive client'],
        ...phases.map((p) => [
          p.phase,
          fmt(p.predict.p50, 2),
          fmt(p.predict.p99, 2),
          fmt(p.predict.max, 1),
          fmt(p.predict.p50 / idle.p50, 2),
          String(p.predict.failures),
          p.abuse ? String(p.abuse.answered) : '',
          p.abuse ? fmt(p.abuse.p50, 1) : '',
          p.abuse
            ? Object.entries(p.abuse.codes)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')
            : '',
        ]),
      ]),
    );
    for (const p of phases) console.log(`  ${p.phase}: ${p.describe}`);
    const failures = phases.reduce((n, p) => n + p.predict.failures, 0);
    const worst = Math.max(...phases.slice(1).map((p) => p.predict.p50 / idle.p50));
    console.log('');
    console.log(
      `worst p50 / idle: ${fmt(worst, 2)} (target <= 2)   predict failures: ${failures}${failures ? ` (first: ${phases.find((p) => p.predict.firstFailure)?.predict.firstFailure})` : ''}`,
    );
    console.log(
      `machine load average at the end: ${os
        .loadavg()
        .map((l) => fmt(l, 2))
        .join(' ')} (other work on this shared machine shows here)`,
    );
    const out = writeResults(`abuse-${args.label || 'latest'}.json`, {
      date: new Date().toISOString(),
      label: args.label,
      rate,
      seconds,
      seeded,
      phases,
      worstP50OverIdle: worst,
      failures,
      loadAtEnd: os.loadavg(),
    });
    console.log(`\nresults: ${out}`);
    return failures === 0 ? 0 : 1;
  } finally {
    progress('stopping');
    await stopChildren(children);
    await pg?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

runBenchmark(main, { relearn: relearnChild, abuser: abuserChild });
