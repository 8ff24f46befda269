import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, retrainFinished, startTestApp, type TestApp } from '../../test/test-app.js';
import { ModelVersionRepository } from '../models/model-version.repository.js';
import { parseDatasetJsonl } from './train.js';

const PREDICT_BATCH = `mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`;
const FEEDBACK = `mutation($input: FeedbackInput!) { submitFeedback(input: $input) { id } }`;

/**
 * Retrains streamed end to end with small chunk files (DATASET_CHUNK_BYTES=4096), on PostgreSQL
 * and on the embedded PGlite: feedback read in snapshot-pinned pages, retracted rows left out, the
 * dataset stored as hashed chunk files, and the next retrain reading that chunked parent.
 */
describe.each(['postgres', 'embedded'] as const)('streamed retrains on the %s database', (database) => {
  let sut: TestApp;
  beforeAll(async () => {
    sut = await startTestApp({ database, env: { AUTO_RETRAIN: 'off', DATASET_CHUNK_BYTES: '4096' } });
  }, 180_000);
  afterAll(() => sut?.stop());

  const feedback = async (n: number, offset: number) => {
    const inputs = Array.from({ length: n }, (_, i) => ({
      fraud: {
        amount: 15 + (i + offset) * 13,
        hour: (i + offset) % 24,
        dayOfWeek: i % 7,
        merchantCategory: 'grocery',
        previousAmount: 30,
        timeSinceLast: 4 + i,
      },
    }));
    const batch = await sut.gql(PREDICT_BATCH, { inputs });
    const fed = await Promise.all(
      batch.data.predictBatch.map((p: { id: string }, i: number) =>
        sut.gql(FEEDBACK, { input: { predictionId: p.id, actual: (i + offset) % 3 ? 'legit' : 'fraud' } }, { token: ADMIN_TOKEN }),
      ),
    );
    return fed.map((f) => Number(f.data.submitFeedback.id));
  };
  const retrain = async (reason: string) => {
    const job = await sut.gql(`mutation($r: String) { triggerRetrain(model: "fraud", reason: $r) { id } }`, { r: reason }, { token: ADMIN_TOKEN });
    const done = await retrainFinished(sut, 'fraud', job.data.triggerRetrain.id);
    expect(['PROMOTED', 'REJECTED']).toContain(done.state);
    const version = await new ModelVersionRepository(sut.app.orm).get('fraud', done.version!);
    const dataset = (await sut.app.services.datasets.byId(version!.datasetVersion!.id))!;
    const bytes = await sut.app.services.datasets.rows(dataset);
    return { dataset, bytes, rows: parseDatasetJsonl(bytes.toString('utf8')) };
  };

  it('stores the dataset as hashed chunk files, leaves retracted feedback out, and the next retrain reads the chunked parent', async () => {
    const first = await feedback(40, 0);
    const retracted = first.slice(0, 5);
    const r = await sut.gql(
      `mutation($ids: [ID!]) { retractFeedback(input: { ids: $ids, reason: "test" }) { count } }`,
      { ids: retracted.map(String) },
      { token: ADMIN_TOKEN },
    );
    expect(r.data.retractFeedback.count).toBe(5);

    const one = await retrain('streamed 1');
    expect(one.dataset.location).toMatch(/\/chunks\.json$/);
    expect(createHash('sha256').update(one.bytes).digest('hex')).toBe(one.dataset.contentHash);
    expect(one.rows).toHaveLength(one.dataset.manifest.rowCount);
    const chunks = JSON.parse((await sut.app.blobs.get(one.dataset.location)).toString('utf8')) as { chunks: { key: string; sha256: string }[] };
    expect(chunks.chunks.length).toBeGreaterThan(1);
    for (const c of chunks.chunks)
      expect(
        createHash('sha256')
          .update(await sut.app.blobs.get(c.key))
          .digest('hex'),
      ).toBe(c.sha256);
    const ids = new Set(one.rows.flatMap((row) => (row.feedbackId === undefined ? [] : [row.feedbackId])));
    for (const id of retracted) expect(ids.has(id)).toBe(false);
    for (const id of first.slice(5)) expect(ids.has(id)).toBe(true);

    const second = await feedback(15, 100);
    const two = await retrain('streamed 2');
    expect(two.dataset.manifest.parent).toBe(one.dataset.version);
    const ids2 = new Set(two.rows.flatMap((row) => (row.feedbackId === undefined ? [] : [row.feedbackId])));
    for (const id of [...first.slice(5), ...second]) expect(ids2.has(id)).toBe(true);
    for (const id of retracted) expect(ids2.has(id)).toBe(false);
    // Each feedback row once, the parent's rows first in their order.
    expect(ids2.size).toBe(two.rows.filter((row) => row.feedbackId !== undefined).length);
    expect(two.rows.slice(0, 10)).toEqual(one.rows.slice(0, 10));
  }, 240_000);
});
