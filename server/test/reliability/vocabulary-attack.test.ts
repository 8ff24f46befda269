// The crash-loop attack, scaled down: an anonymous client sends predictBatch of 20 texts of 10,000
// unique words, then submitFeedback(actual: "ham") on each, round after round. Before the feature
// space was bounded every unique word grew the live model's vocabulary (a Map entry each): the heap
// grew without bound, the process died, and each restart died again replaying that feedback.
// Now tokens are hashed into the task's featureBuckets (5,000 here, so the cap is reached at once):
// the process stays up and serving a well-behaved client, its vocabulary stays at the cap, its heap
// stays bounded, and a restart replays every feedback into exactly the same model.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/services/background-process.js';
import { freshDatabaseUrl } from '../database.js';
import { startRelearnProcess, waitForOutput, type RelearnProcess } from '../processes.js';
import { ADMIN_TOKEN } from '../test-app.js';

const BUCKETS = 5000;
const ROUNDS = 15;
const TEXTS_PER_BATCH = 20;
const WORDS_PER_TEXT = 10_000;
/** A heap well below what the unbounded vocabulary reached (the attack's 3 M unique words need ~0.5 GB as Map entries). */
const HEAP_MB = 384;

const attackTask = (datasetPath: string) => ({
  name: 'attack',
  description: 'A text task with a small feature space, to reach the cap',
  inputType: 'AttackInput',
  features: [{ name: 'text', type: 'text', maxLength: 100_000, featureBuckets: BUCKETS }],
  labels: ['ham', 'spam'],
  positiveLabel: 'spam',
  classifier: 'naive-bayes',
  onlineLearning: true,
  dataset: { source: 'file', path: datasetPath, holdoutFraction: 0.2 },
  // No retrain during the attack: this test is about the live model and its replay.
  retrain: { afterFeedback: 1_000_000, minAccuracy: 0, window: 50, minSamples: 1_000_000, cooldownSeconds: 86_400, promotionMargin: 0 },
});

const seedRows = Array.from({ length: 60 }, (_, i) =>
  i % 2
    ? { text: `win money now free prize offer ${i} click here claim`, label: 'spam' }
    : { text: `meeting agenda for tomorrow notes project ${i} thanks`, label: 'ham' },
);

describe('vocabulary attack (unique words + feedback)', () => {
  let databaseUrl: string;
  let dir: string;
  let port: number;
  let api: RelearnProcess | null = null;
  const env = () => ({
    DATABASE_URL: databaseUrl,
    AUTH_MODE: 'open',
    RATE_LIMITS: 'off',
    DATA_DIR: path.join(dir, 'data'),
    TASKS: path.join(dir, 'attack.json'),
    PORT: String(port),
    HOST: '127.0.0.1',
    ADMIN_TOKEN,
    LOG_LEVEL: 'info',
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_MB}`.trim(),
  });
  const start = async () => {
    const p = startRelearnProcess('main', env());
    api = p;
    await waitForOutput(p, /all models live: ready to predict/, 180_000);
    return p;
  };

  const gql = async (query: string, variables: Record<string, unknown>) => {
    const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
  };
  const scrape = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = (pattern: RegExp) => Number(text.match(pattern)?.[1] ?? Number.NaN);
    return {
      vocabulary: value(/^relearn_model_vocabulary_size\{model="attack"\} (\d+)/m),
      heapUsedMb: value(/^nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m) / 1024 / 1024,
    };
  };

  beforeAll(async () => {
    databaseUrl = await freshDatabaseUrl('vocabulary_attack');
    dir = await mkdtemp(path.join(tmpdir(), 'relearn-vocab-'));
    port = await freePort();
    await writeFile(path.join(dir, 'attack.jsonl'), seedRows.map((r) => JSON.stringify(r)).join('\n'));
    await writeFile(path.join(dir, 'attack.json'), JSON.stringify(attackTask('attack.jsonl')));
    await start();
  }, 240_000);

  afterAll(async () => {
    await api?.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the process alive and serving, the vocabulary at the cap and the heap bounded; a restart replays it all', async () => {
    let word = 0;
    const uniqueText = () => Array.from({ length: WORDS_PER_TEXT }, () => `a${(word++).toString(36)}`).join(' ');

    // A well-behaved client predicting all along: every one of its requests must succeed.
    let attacking = true;
    let innocentServed = 0;
    const innocentErrors: string[] = [];
    const innocent = (async () => {
      while (attacking) {
        const res = await gql(`mutation($t: String!) { predict(input: { attack: { text: $t } }) { id } }`, { t: 'project meeting notes' }).catch(
          (e: unknown) => ({ errors: [{ message: String(e) }], data: null }),
        );
        if (res.errors || !res.data?.predict?.id) innocentErrors.push(JSON.stringify(res.errors));
        else innocentServed++;
      }
    })();

    const figures: { round: number; vocabulary: number; heapUsedMb: number }[] = [];
    let feedbackTaken = 0;
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        const batch = await gql(`mutation($i: [PredictInput!]!) { predictBatch(inputs: $i) { id } }`, {
          i: Array.from({ length: TEXTS_PER_BATCH }, () => ({ attack: { text: uniqueText() } })),
        });
        expect(batch.errors).toBeUndefined();
        for (const p of batch.data.predictBatch as { id: string }[]) {
          const fb = await gql(`mutation($i: FeedbackInput!) { submitFeedback(input: $i) { id } }`, { i: { predictionId: p.id, actual: 'ham' } });
          expect(fb.errors).toBeUndefined();
          feedbackTaken++;
        }
        figures.push({ round, ...(await scrape()) });
        expect(api!.child.exitCode).toBeNull();
      }
    } finally {
      attacking = false;
      await innocent;
    }
    console.log(
      `vocabulary attack: ${ROUNDS * TEXTS_PER_BATCH} texts, ${word.toLocaleString('en')} unique words, ${feedbackTaken} feedback; ` +
        `per round (vocabulary, heap MB): ${figures.map((f) => `${f.vocabulary}/${f.heapUsedMb.toFixed(0)}`).join(' ')}; ` +
        `innocent predictions served ${innocentServed}, failed ${innocentErrors.length}`,
    );
    expect(word).toBe(ROUNDS * TEXTS_PER_BATCH * WORDS_PER_TEXT);
    expect(innocentErrors).toEqual([]);
    expect(innocentServed).toBeGreaterThan(0);
    const last = figures.at(-1)!;
    expect(last.vocabulary).toBeLessThanOrEqual(BUCKETS);
    expect(last.vocabulary).toBeGreaterThan(BUCKETS * 0.99); // the cap is reached, not bypassed
    // Vocabulary is flat once at the cap: every later round adds no bucket.
    expect(new Set(figures.slice(1).map((f) => f.vocabulary)).size).toBe(1);
    expect(last.heapUsedMb).toBeLessThan(HEAP_MB);

    // A restart replays all of that feedback into the very same model.
    const code = await api!.stop();
    expect(code).toBe(0);
    await start();
    const after = await scrape();
    console.log(`after restart: vocabulary ${after.vocabulary}, heap ${after.heapUsedMb.toFixed(0)} MB`);
    expect(after.vocabulary).toBe(last.vocabulary);
    const res = await gql(`mutation($t: String!) { predict(input: { attack: { text: $t } }) { id label } }`, { t: 'project meeting notes' });
    expect(res.errors).toBeUndefined();
    expect(api!.output()).toMatch(/replayed feedback into the live model/);
  });
});
