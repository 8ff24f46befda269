import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startTestApp } from '../../test/test-app.js';
import { featureBucket } from '../ml/naive-bayes.js';
import { MERCHANT_CATEGORIES } from './data/fraud-generator.js';
import { TaskRegistry } from './task-registry.js';

const threatTask = fileURLToPath(new URL('../../../examples/tasks/threat.json', import.meta.url));

describe(TaskRegistry.name, () => {
  it('loads the built-in fraud and spam tasks', async () => {
    const sut = await TaskRegistry.load();
    expect(sut.names().sort()).toEqual(['fraud', 'spam']);
    expect(sut.get('fraud')!.modelSpec).toEqual({
      labels: ['legit', 'fraud'],
      gaussian: ['amount', 'hour', 'dayOfWeek', 'previousAmount', 'timeSinceLast'],
      categorical: ['merchantCategory'],
      multinomial: false,
      tokenBuckets: 1 << 20,
      categoryBuckets: [1 << 16],
      // scikit-learn's GaussianNB and CategoricalNB: the default estimators (task-definition.ts says why).
      gaussianVariance: 'population',
      varSmoothing: 1e-9,
      categories: 'categorical',
      text: 'multinomial',
      tfidf: false,
      tokens: { tokenizer: 'words', bigrams: true, termFrequency: 'raw' },
    });
    // Spam's vocabulary is bounded by its definition: 2^20 token buckets.
    expect(sut.get('spam')!.modelSpec).toMatchObject({ multinomial: true, tokenBuckets: 1 << 20, categoryBuckets: [] });
  });

  it("gives each of fraud's merchant categories a bucket of its own (no shared counts)", async () => {
    const sut = await TaskRegistry.load();
    const [buckets] = sut.get('fraud')!.modelSpec.categoryBuckets!;
    const used = MERCHANT_CATEGORIES.map((c) => featureBucket(c, buckets!));
    expect(new Set(used).size).toBe(MERCHANT_CATEGORIES.length);
  });

  it('refuses an invalid task file, listing every problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'relearn-task-'));
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ name: 'Bad Name', inputType: 'bad', features: [], labels: ['a'], positiveLabel: 'b' }));
    await expect(TaskRegistry.load([file])).rejects.toThrow(/name[\s\S]*inputType[\s\S]*features[\s\S]*labels/);
    await rm(dir, { recursive: true });
  });

  it('serves a third task from a definition file and a labelled text file, with no new code', async () => {
    const sut = await startTestApp({ env: { TASKS: threatTask } });
    try {
      const res = await sut.gql(
        `mutation($i: PredictInput!) { predict(input: $i) { model label scores { label } modelVersion { version trainingMetrics { feedbackCount } } } }`,
        { i: { threat: { message: 'I know where you live and I will hurt you' } } },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data.predict.model).toBe('threat');
      expect(res.data.predict.scores.map((s: any) => s.label)).toEqual(['benign', 'threat']);
      expect(res.data.predict.modelVersion.trainingMetrics.feedbackCount).toBeGreaterThan(0);
      const bad = await sut.gql(`mutation { predict(input: { threat: { message: "" } }) { id } }`);
      expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'threat.message' });
    } finally {
      await sut.stop();
    }
  });
});
