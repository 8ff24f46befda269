// Exact parity with scikit-learn (installed from PyPI by the test itself, scripts/services/scikit-learn.ts):
// for every task and every estimator scikit-learn has, the model learned online row by row gives
// the probabilities scikit-learn's batch fit gives on the same rows, to 1e-9.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareWithScikitLearn } from '../../test/sklearn-parity.js';
import { loadBootstrapRows } from '../tasks/data-sources.js';
import { readTaskDefinition } from '../tasks/task-definition.js';
import { builtInTaskDir } from '../tasks/task-registry.js';
import { Task } from '../tasks/task.js';
import type { NaiveBayesSpec } from './naive-bayes.js';

const TOLERANCE = 1e-9;
const PROBES = 300;

async function taskRows(file: string) {
  const task = new Task(await readTaskDefinition(file));
  const rows = (await loadBootstrapRows(task.definition)).map((r) => ({ x: task.encode(task.validate(r.input)), label: r.label }));
  // Every fifth row is a probe: inputs the model has not learned (unseen tokens and values included).
  const probes = rows
    .filter((_, i) => i % 5 === 0)
    .slice(0, PROBES)
    .map((r) => r.x);
  // A small corpus (threat: 60 messages) gets more probes from pairs of messages read as one.
  for (let i = 0; probes.length < PROBES; i++) {
    const a = rows[i % rows.length]!.x;
    const b = rows[(i * 7 + 3) % rows.length]!.x;
    const tokens = new Map(a.tokens);
    for (const [t, n] of b.tokens ?? []) tokens.set(t, (tokens.get(t) ?? 0) + n);
    probes.push({ ...a, tokens });
  }
  return { task, train: rows.filter((_, i) => i % 5 !== 0), probes };
}

const TEXT_VARIANTS: Partial<NaiveBayesSpec>[] = [
  { text: 'multinomial' },
  { text: 'multinomial', tfidf: true },
  { text: 'complement' },
  { text: 'complement', tfidf: true },
];

describe('naive Bayes against scikit-learn', { timeout: 900_000 }, () => {
  it('fraud: GaussianNB (population variance, var_smoothing) with CategoricalNB, unseen categories included', async () => {
    const { task, train, probes } = await taskRows(path.join(builtInTaskDir, 'fraud.json'));
    expect(task.modelSpec).toMatchObject({ gaussianVariance: 'population', categories: 'categorical' });
    // Values no training row had, so the "unseen" outcome is compared too.
    const unseen = probes.slice(0, 50).map((x) => ({ ...x, categorical: [`never-seen-${x.gaussian[0]}`] }));
    const result = await compareWithScikitLearn(task.modelSpec, train, [...probes, ...unseen]);
    expect(result.probes).toBe(PROBES + 50);
    expect(result.maxAbsDiff).toBeLessThanOrEqual(TOLERANCE);
  });

  it.each(['spam', 'threat'])('%s: MultinomialNB and ComplementNB, each with and without TF-IDF', async (name) => {
    const file = name === 'spam' ? path.join(builtInTaskDir, 'spam.json') : path.resolve('examples/tasks/threat.json');
    const { task, train, probes } = await taskRows(file);
    expect(probes).toHaveLength(PROBES);
    for (const variant of TEXT_VARIANTS) {
      const result = await compareWithScikitLearn({ ...task.modelSpec, ...variant }, train, probes);
      expect(result.maxAbsDiff, JSON.stringify(variant)).toBeLessThanOrEqual(TOLERANCE);
    }
  });
});
