/**
 * `npm run demo:retrain -- --model spam` — streams data the model has not seen through the API
 * with truthful feedback and shows live accuracy fall, the automatic retrain, and the recovery.
 * Without --url it starts its own Relearn (embedded database, fresh data directory).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { runRetrainDemo } from '../simulation/retrain-demo.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'spam' },
    rows: { type: 'string', default: '2000' },
    batch: { type: 'string', default: '50' },
    rate: { type: 'string', default: '250' },
    seed: { type: 'string', default: '1' },
    url: { type: 'string' },
    'no-online-learning': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(`Usage: npm run demo:retrain -- [--model spam|fraud] [--rows N] [--batch N] [--rate ROWS_PER_S] [--seed N] [--no-online-learning] [--url http://host:port/graphql]

Streams rows the live model has not seen (spam: the SpamAssassin groups ${'easy-ham-2, spam-2'}, shuffled;
fraud: the generator at drift 1) through predictBatch, answers each with the true label, and
reports live accuracy before the automatic retrain and after the promotion. Streaming pauses
while a retrain runs. --no-online-learning freezes the live model between retrains (the
private server only), so the recovery is the retrain's alone.
Without --url it starts a private Relearn (embedded PostgreSQL, temporary data directory).`);
  process.exit(0);
}
const model = values.model === 'fraud' ? 'fraud' : 'spam';
let stop = async () => {};
let url = values.url;
if (!url) {
  const dir = await mkdtemp(join(tmpdir(), 'relearn-demo-'));
  const config = loadConfig({
    PORT: '0',
    DATA_DIR: dir,
    LOG_LEVEL: 'warn',
    ADMIN_TOKEN: 'demo-admin-token-0123456789',
    ONLINE_LEARNING: values['no-online-learning'] ? 'off' : 'on',
  });
  const app = await buildApp(config, createLogger(config));
  const port = await app.start();
  process.stderr.write('training the bootstrap models…\n');
  await app.modelsReady;
  url = `http://127.0.0.1:${port}/graphql`;
  stop = async () => {
    await app.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
try {
  const report = await runRetrainDemo(
    { url, model, rows: Number(values.rows), batch: Number(values.batch), rate: Number(values.rate), seed: Number(values.seed) },
    (sent, total, job) => process.stderr.write(`\r${sent}/${total} rows sent${job ? `, latest retrain: ${job}` : ''}   `),
  );
  process.stderr.write('\n');
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  const t = new Table({ head: ['', 'rows', 'live accuracy'] });
  t.push(['v1 before the retrain was triggered', report.beforeTrigger.rows, pct(report.beforeTrigger.accuracy)]);
  t.push([`v${report.promotion?.version ?? '?'} after promotion`, report.afterPromotion.rows, pct(report.afterPromotion.accuracy)]);
  console.log(t.toString());
  console.log(`trigger: ${report.trigger ? `after row ${report.trigger.atRow}: ${report.trigger.reason}` : 'none'}`);
  console.log(`promotion: ${report.promotion ? `after row ${report.promotion.atRow}: v${report.promotion.version} — ${report.promotion.message}` : 'none'}`);
  console.log(
    `holdout accuracy at training time: ${Object.entries(report.trainingAccuracy)
      .map(([v, a]) => `v${v} ${pct(a)}`)
      .join(', ')}`,
  );
  const tl = new Table({ head: ['from row', 'served by', 'accuracy'] });
  for (const b of report.timeline) tl.push([b.fromRow, `v${b.version}`, pct(b.accuracy)]);
  console.log(tl.toString());
} finally {
  await stop();
}
