import { afterAll, beforeAll, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test/test-app.js';
import { runSimulation } from './simulation.js';

let t: TestApp;
beforeAll(async () => { t = await startTestApp(); });
afterAll(async () => { await t?.stop(); });

const cases: [any, any, number][] = [
  ['fraud', 'good', 300], ['fraud', 'drift', 800], ['fraud', 'poor', 300], ['fraud', 'recovery', 400], ['fraud', 'mixed', 300],
  ['spam', 'good', 100], ['spam', 'poor', 300], ['spam', 'drift', 400],
];
it('explore', async () => {
  for (const [model, scenario, count] of cases) {
    const s = await runSimulation({ model, scenario, count, concurrency: 8, feedbackRate: 1, seed: 1, url: t.url });
    console.log(model, scenario, count, 'acc', s.runAccuracy?.toFixed(3), 'recall', s.runRecall?.toFixed(3), 'errors', JSON.stringify(s.errors), 'ms', s.durationMs.toFixed(0),
      '\n  quarters', s.quarters.map((q) => `${q.phase}: acc ${q.accuracy?.toFixed(3)} rec ${q.recall?.toFixed(2)} ${JSON.stringify(q.confusion)}`).join('\n           '),
      '\n  server', JSON.stringify(s.server.after?.lastFeedback100), 'versions', JSON.stringify(s.versionsSeen), 'lat', JSON.stringify(s.latencyMs.all));
  }
}, 600_000);
