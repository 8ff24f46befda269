// npm run bench:quality — the model-quality figures of the README in one table:
//  1. parity: max |p_relearn − p_scikit-learn| of predict_proba per task and estimator (scikit-learn
//     installed from PyPI into the cache, scripts/services/scikit-learn.ts), the model learned online;
//  2. SpamAssassin: accuracy on a held-out quarter of the later groups before and after streaming
//     the other three quarters with truthful feedback, per text configuration (bench/quality-spam.ts);
//  3. the threat task's holdout accuracy per configuration against its threshold.
// `--skip-parity` leaves out part 1 (no Python needed).
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { NaiveBayesSpec } from '../server/src/ml/naive-bayes.js';
import { compareWithScikitLearn } from '../server/test/sklearn-parity.js';
import { loadBootstrapRows } from '../server/src/tasks/data-sources.js';
import { readTaskDefinition, type TaskDefinition } from '../server/src/tasks/task-definition.js';
import { builtInTaskDir } from '../server/src/tasks/task-registry.js';
import { Task } from '../server/src/tasks/task.js';
import { buildDataset, fitAndEvaluate } from '../server/src/training/train.js';
import { spamAssassinFigures } from './quality-spam.js';

const { values: args } = parseArgs({ options: { 'skip-parity': { type: 'boolean', default: false } } });
const rows: [section: string, configuration: string, figure: string][] = [];
const fmt = (x: number | null | undefined, digits = 4) => (x === null || x === undefined ? 'n/a' : x.toFixed(digits));

async function parity(file: string, variants: Partial<NaiveBayesSpec>[]): Promise<void> {
  const task = new Task(await readTaskDefinition(file));
  const labelled = (await loadBootstrapRows(task.definition)).map((r) => ({ x: task.encode(task.validate(r.input)), label: r.label }));
  const probes = labelled
    .filter((_, i) => i % 5 === 0)
    .slice(0, 300)
    .map((r) => r.x);
  for (let i = 0; probes.length < 300; i++) {
    const a = labelled[i % labelled.length]!.x;
    const b = labelled[(i * 7 + 3) % labelled.length]!.x;
    const tokens = new Map(a.tokens);
    for (const [t, n] of b.tokens ?? []) tokens.set(t, (tokens.get(t) ?? 0) + n);
    probes.push({ ...a, tokens });
  }
  const train = labelled.filter((_, i) => i % 5 !== 0);
  for (const variant of variants) {
    const spec = { ...task.modelSpec, ...variant };
    const r = await compareWithScikitLearn(spec, train, probes);
    const name = spec.multinomial ? `${spec.text}${spec.tfidf ? ' + TF-IDF' : ''}` : `GaussianNB (${spec.gaussianVariance}) + CategoricalNB`;
    rows.push(['parity vs scikit-learn 1.9.1', `${task.name}: ${name}`, `max abs diff ${r.maxAbsDiff.toExponential(1)} over ${r.probes} probes`]);
  }
}

async function threat(): Promise<void> {
  const def = await readTaskDefinition(path.resolve('examples/tasks/threat.json'));
  const text = def.features[0]!;
  for (const tokenizer of ['words', 'mail'] as const) {
    for (const [estimator, tfidf] of [
      ['multinomial', false],
      ['multinomial', true],
      ['complement', false],
    ] as const) {
      const variant: TaskDefinition = { ...def, naiveBayes: { ...def.naiveBayes, text: estimator, tfidf }, features: [{ ...text, tokenizer } as typeof text] };
      const task = new Task(variant);
      const built = buildDataset(task, [], await loadBootstrapRows(task.definition));
      const fitted = fitAndEvaluate(task, built.rows, { recentRows: 10 });
      const h = fitted.challenger.holdout;
      rows.push([
        'threat (examples/tasks/threat.json)',
        `${tokenizer}, ${estimator}${tfidf ? ', TF-IDF' : ''}`,
        `holdout accuracy ${fmt(h.accuracy, 3)} (${h.count} rows), precision ${fmt(h.precision, 2)}; threshold ${def.retrain.minAccuracy}`,
      ]);
    }
  }
}

async function main(): Promise<void> {
  if (!args['skip-parity']) {
    await parity(path.join(builtInTaskDir, 'fraud.json'), [{}]);
    await parity(path.join(builtInTaskDir, 'spam.json'), [
      { text: 'multinomial', tfidf: false },
      { text: 'multinomial', tfidf: true },
      { text: 'complement', tfidf: false },
      { text: 'complement', tfidf: true },
    ]);
  }
  for (const f of await spamAssassinFigures()) {
    rows.push([
      'SpamAssassin later groups',
      f.configuration,
      `before ${fmt(f.before)} → after ${fmt(f.after)} (held out ${f.heldOut}, streamed ${f.streamed}, vocabulary ${f.vocabulary} buckets)`,
    ]);
  }
  await threat();
  console.log('| part | configuration | figure |\n| --- | --- | --- |');
  for (const [section, configuration, figure] of rows) console.log(`| ${section} | ${configuration} | ${figure} |`);
}

await main();
