import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freshDatabaseUrl } from '../../test/database.js';
import { PREDICT_FRAUD, SUBMIT_FEEDBACK, aFraudInput, startTestApp, type TestApp } from '../../test/test-app.js';

/** The sum of a Prometheus counter's samples for one model, from the /metrics text. */
async function counted(sut: TestApp, name: string, model: string): Promise<number> {
  const text = await (await fetch(`${sut.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(`model="${model}"`))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/**
 * Two API processes over one PostgreSQL. What a process did (its Prometheus counters, its retrain
 * trigger debounce) follows that process's own domain events; other processes hear ids over
 * NOTIFY and learn the rows from the tables, without counting them a second time.
 */
describe('process-local and cross-process events', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    const databaseUrl = await freshDatabaseUrl('relearn');
    a = await startTestApp({ databaseUrl, env: { TRAINER: 'off' } });
    b = await startTestApp({ databaseUrl, env: { TRAINER: 'off' } });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('counts a prediction and its feedback in the serving process only; the other process learns it without counting it', async () => {
    const triggersA = vi.spyOn(a.app.triggers, 'feedbackRecorded');
    const triggersB = vi.spyOn(b.app.triggers, 'feedbackRecorded');
    const learnedByB = b.app.services.models.getLive('fraud')!.model.sampleCount;

    const predicted = await a.gql(PREDICT_FRAUD, { input: { fraud: aFraudInput() } });
    expect(predicted.errors).toBeUndefined();
    const fed = await a.gql(SUBMIT_FEEDBACK, { input: { predictionId: predicted.data.predict.id, correct: true } });
    expect(fed.errors).toBeUndefined();

    // B hears of the commit (ids only) and reads the row: its live model learns it once.
    await expect.poll(() => b.app.services.models.getLive('fraud')!.model.sampleCount, { timeout: 20_000, interval: 50 }).toBe(learnedByB + 1);

    expect(await counted(a, 'relearn_predictions_total', 'fraud')).toBe(1);
    expect(await counted(a, 'relearn_feedback_total', 'fraud')).toBe(1);
    expect(await counted(b, 'relearn_predictions_total', 'fraud')).toBe(0);
    expect(await counted(b, 'relearn_feedback_total', 'fraud')).toBe(0);
    expect(triggersA).toHaveBeenCalledTimes(1);
    expect(triggersB).not.toHaveBeenCalled();
  });
});
