// The dashboard in a real browser (Debian's Chromium through playwright-core) against a whole
// Relearn on the test PostgreSQL: predict, give feedback, watch the numbers move, retrain, roll back.
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateNewBatch } from '../../server/src/tasks/data/fraud-generator.js';
import { ADMIN_TOKEN, SUBMIT_FEEDBACK, startTestApp, type TestApp } from '../../server/test/test-app.js';
import { artifacts, openOfflineBrowser, root, type OfflineBrowser } from './offline-browser.js';

/** A number shown in a figure tile. */
async function figure(page: Page, testId: string): Promise<number> {
  return Number(await page.getByTestId(testId).locator('.value').textContent());
}

// A browser, PostgreSQL and the app share two busy cores: what the page shows may take seconds to
// come, so polls wait up to 20 s (they return as soon as it is there).
vi.setConfig({ expect: { poll: { timeout: 20_000, interval: 100 } } });

describe('the dashboard', () => {
  let sut: TestApp;
  let browser: BrowserContext;
  let page: Page;
  let offline: OfflineBrowser;
  let external: string[];

  beforeAll(async () => {
    // The threat example beside the built-ins: an experimental task whose first version trains below its threshold.
    sut = await startTestApp({
      env: { TASKS: path.join(root, 'examples/tasks/threat.json'), PROMETHEUS_URL: 'http://127.0.0.1:9/prometheus', GRAFANA_URL: 'http://127.0.0.1:9/grafana' },
    });
    offline = await openOfflineBrowser();
    ({ browser, page, external } = offline);
  });

  afterAll(async () => {
    await offline?.close();
    await sut?.stop();
  });

  it('is served at / with hashed, immutable assets', async () => {
    const res = await fetch(`${sut.url}/`);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await res.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${sut.url}${script}`);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    const icon = await fetch(`${sut.url}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toMatch(/^image\/(x-icon|vnd.microsoft.icon)/);
  });

  it('says when a task is experimental and when its live version trained below its own threshold', async () => {
    await page.goto(`${sut.url}/#threat`);
    await expect.poll(() => page.getByTestId('model-experimental').textContent()).toContain('Experimental:');
    expect(await page.getByTestId('model-below-threshold').textContent()).toContain("below its task's own accuracy threshold");
    await page.selectOption('#model-picker', 'fraud');
    await expect.poll(() => page.getByTestId('model-experimental').count()).toBe(0);
    expect(await page.getByTestId('model-below-threshold').count()).toBe(0);
    await page.goto('about:blank'); // the next test loads the page afresh
  });

  it('predicts from a generated form, takes feedback and moves the numbers without a reload', async () => {
    await page.goto(`${sut.url}/#fraud`);
    await expect.poll(() => page.getByTestId('connection').textContent()).toContain('Live');
    await expect.poll(() => page.getByTestId('feedback-count').count()).toBe(1);
    const feedbackBefore = await figure(page, 'feedback-count');
    const predictionsBefore = await figure(page, 'prediction-count');
    const chartFeedback = async () => Number(await page.getByTestId('accuracy-chart').getAttribute('data-feedback'));
    const chartBefore = await chartFeedback();

    // Out of range: shown next to the field, nothing sent.
    await page.getByLabel('Amount', { exact: true }).fill('-5');
    await page.getByRole('button', { name: 'Predict', exact: true }).click();
    await expect.poll(() => page.getByTestId('error-amount').textContent()).toBe('Must be greater than 0');
    await expect.poll(() => page.getByTestId('error-hour').textContent()).toBe('Required');

    await page.getByLabel('Amount', { exact: true }).fill('1900');
    await page.getByLabel('Hour').fill('3');
    await page.getByLabel('Day of week').fill('2');
    // Categories come from the task; one never seen in training is said before predicting.
    expect(await page.locator('#feature-merchantCategory-known option').count()).toBeGreaterThan(3);
    await page.getByLabel('Merchant category').fill('spaceships');
    await expect.poll(() => page.getByTestId('unseen-merchantCategory').textContent()).toContain('never seen in training');
    await page.getByLabel('Merchant category').fill('electronics');
    expect(await page.getByTestId('unseen-merchantCategory').textContent()).toBe('');
    await page.getByLabel('Previous amount').fill('35');
    await page.getByLabel('Time since last').fill('0.2');
    await page.getByRole('button', { name: 'Predict', exact: true }).click();

    await expect.poll(() => page.getByTestId('predicted-label').textContent()).toMatch(/^(legit|fraud)$/);
    expect(await page.getByTestId('serving-version').textContent()).toBe('v1');
    expect(await page.getByRole('meter').count()).toBe(2);
    // Readable near 0 and 1: a percentage, or the distance to 1 / the tiny value itself.
    expect(await page.getByTestId('probability-fraud').textContent()).toMatch(/^(\d+\.\d%|1 − [\d.]+e-\d+|[\d.]+e-\d+)$/);
    expect(await page.getByTestId('alerts-empty').textContent()).toContain('nothing is sending alerts');
    // Serving health from /metrics: the percentiles of the requests served so far.
    await expect.poll(() => page.getByTestId('health-p50').textContent()).toMatch(/ms$/);
    // The error rate of this process's GraphQL answers (/metrics relearn_graphql_responses_total).
    await expect.poll(() => page.getByTestId('health-errors').textContent()).toMatch(/^(<0\.1|\d+(\.\d)?)%$/);
    // Links to the monitoring UIs the deployment names (PROMETHEUS_URL, GRAFANA_URL).
    expect(await page.getByTestId('link-prometheus').getAttribute('href')).toBe('http://127.0.0.1:9/prometheus');
    expect(await page.getByTestId('link-grafana').getAttribute('href')).toBe('http://127.0.0.1:9/grafana');
    expect(await page.getByTestId('error-amount').textContent()).toBe('');
    await expect.poll(() => figure(page, 'prediction-count')).toBe(predictionsBefore + 1);

    await page.getByRole('button', { name: 'Correct', exact: true }).click();
    await expect.poll(() => page.getByTestId('feedback-sent').textContent()).toContain('(correct)');
    await expect.poll(() => figure(page, 'feedback-count')).toBe(feedbackBefore + 1);
    await expect.poll(chartFeedback).toBe(chartBefore + 1);
    // The feedback lag (labelDelay) of that answer.
    await expect.poll(() => page.getByTestId('health-lag').textContent()).toMatch(/ s$/);

    // Feedback from elsewhere arrives through metricsUpdated: the chart grows as it comes.
    for (const seed of [1, 2, 3]) {
      const rows = generateNewBatch(15, { seed, drift: seed / 3, fraudRate: 0.3 });
      const predicted = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, {
        inputs: rows.map((r) => ({ fraud: r.input })),
      });
      for (const [i, p] of (predicted.data.predictBatch as { id: string }[]).entries()) {
        await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: p.id, actual: rows[i]!.label } });
      }
      await expect.poll(() => figure(page, 'feedback-count')).toBe(feedbackBefore + 1 + 15 * seed);
    }
    // The chart reads the server's history again after each push: every feedback is in it.
    await expect.poll(chartFeedback).toBe(chartBefore + 1 + 45);
    // Another range is another query over the same history.
    await page.getByRole('group', { name: 'Time range', exact: true }).getByRole('button', { name: '24 h' }).click();
    await expect.poll(chartFeedback).toBe(chartBefore + 1 + 45);
  });

  it('retrains with the admin token and follows the job to its outcome', async () => {
    expect(await page.getByRole('button', { name: 'Retrain now' }).isDisabled()).toBe(true);
    expect(await page.getByTestId('retrain-triggers').textContent()).toContain('more feedback');
    // A wrong token is refused when entered, not at the first admin action.
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => page.getByTestId('token-error').textContent()).toContain('refused');
    expect(await page.getByRole('button', { name: 'Retrain now' }).isDisabled()).toBe(true);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => page.getByTestId('token-status').count()).toBe(1);
    await page.getByLabel('Reason').first().fill('dashboard end-to-end test');
    await page.getByRole('button', { name: 'Retrain now' }).click();
    await expect.poll(() => page.getByTestId('retrain-state').textContent(), { timeout: 90_000, interval: 250 }).toMatch(/^(PROMOTED|REJECTED)$/);
    expect(await page.getByRole('progressbar', { name: 'Retrain progress' }).getAttribute('aria-valuenow')).toBe('100');
    expect(await page.getByTestId('retrain-jobs').textContent()).toContain('dashboard end-to-end test');
    await expect.poll(() => page.getByTestId('version-2').count()).toBe(1);
    expect(await page.getByTestId('retrain-jobs').textContent()).toMatch(/finished .*took [\d.]+ (s|min)/);
    expect((await page.getByTestId('version-2-gate').textContent())!.replace(/\s+/g, ' ')).toMatch(/holdout: [\d.]+% vs v1 [\d.]+% \([\d,]+ rows\)/);
  });

  it('rolls back to version 1 after a confirmation and shows it live', async () => {
    // When the gate rejected version 2, make it live first (same dialog) so there is something to roll back.
    if ((await page.getByTestId('version-1-status').textContent()) === 'LIVE') {
      await page.getByRole('button', { name: 'Make live to version 2' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Confirm' }).click();
      await expect.poll(() => page.getByTestId('live-version').textContent()).toBe('v2');
    }
    await expect.poll(() => page.getByTestId('version-2-status').textContent()).toBe('LIVE');
    await expect.poll(() => page.locator('#model-picker option[value="fraud"]').textContent()).toContain('v2 live');
    // A second tab learns of the rollback by a push (modelActivated), not by polling.
    const other = await browser.newPage();
    await other.goto(`${sut.url}/#fraud`);
    await expect.poll(() => other.getByTestId('live-version').textContent()).toBe('v2');
    await page.getByRole('button', { name: 'Roll back to version 1' }).click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.isVisible()).toBe(true);
    await dialog.getByLabel('Reason').fill('roll back from the e2e test');
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.getByTestId('version-1-status').textContent()).toBe('LIVE');
    await expect.poll(() => page.getByTestId('live-version').textContent()).toBe('v1');
    expect(await page.getByTestId('version-2-status').textContent()).toBe('RETIRED');
    expect(await page.getByTestId('version-1').textContent()).toContain('roll back from the e2e test');
    await expect.poll(() => other.getByTestId('live-version').textContent(), { timeout: 5000 }).toBe('v1');
    expect(await other.locator('#model-picker option[value="fraud"]').textContent()).toContain('v1 live');
    await other.close();
    // The picker, the retrain panel and the history all say v1 is live, and v1's own promotion is kept.
    expect(await page.locator('#model-picker option[value="fraud"]').textContent()).toContain('v1 live');
    if ((await page.getByTestId('retrain-state').textContent()) === 'PROMOTED') {
      expect(await page.getByTestId('retrain-superseded').textContent()).toContain('v1 is live');
    }
    const history = await page.getByTestId('activations').textContent();
    expect(history).toContain('v2 → v1');
    expect(history).toContain('roll back from the e2e test');
    expect(await page.getByTestId('activations').locator('li').count()).toBeGreaterThanOrEqual(3);
    // The audit log shows the rollback as it is committed; the review queue (admin) is empty here.
    await expect.poll(() => page.getByTestId('audit-log').textContent()).toMatch(/model\.(rolled-back|activated)/);
    expect(await page.getByTestId('quarantine-empty').count()).toBe(1);
    // The live version explains itself: its dataset, gate verdict and holdout confusion matrix.
    const details = (await page.getByTestId('version-details').textContent())!.replace(/\s+/g, ' ');
    expect(details).toMatch(/rows ?[\d,]+ \([\d,]+ train, [\d,]+ holdout\)/);
    expect(details).toContain('Confusion matrix on its own holdout');
    // Its live accuracy carries its 95% interval, and its calibration is drawn from its labelled predictions.
    await expect.poll(() => page.getByTestId('version-1-live').textContent()).toMatch(/\d+\.\d%–\d+\.\d%/);
    await expect.poll(() => page.getByTestId('calibration-ece').textContent()).toMatch(/^\d\.\d{3}$/);
    expect(await page.getByTestId('reliability-chart').locator('rect').count()).toBeGreaterThan(0);
  });

  it('fits a laptop and a phone (screenshots in test-artifacts/)', async () => {
    // The retrain and the activations are marked on the chart.
    await expect.poll(async () => Number(await page.getByTestId('accuracy-chart').getAttribute('data-markers'))).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: path.join(artifacts, 'dashboard-desktop.png'), fullPage: true });
    const update = process.env.UPDATE_SCREENSHOTS === '1';
    if (update) await page.screenshot({ path: path.join(root, 'docs/dashboard.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    // One column: nothing wider than the phone's viewport.
    const overflowing = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > 391 && !e.parentElement?.closest('.table-scroll'))
          .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`),
      );
    await expect.poll(overflowing).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // The versions' actions are reachable without scrolling the table sideways.
    const action = await page
      .getByRole('button', { name: /^(Make live|Roll back) to version \d+$/ })
      .first()
      .boundingBox();
    expect(action!.x + action!.width).toBeLessThanOrEqual(390);
    await page.screenshot({ path: path.join(artifacts, 'dashboard-phone.png'), fullPage: true });
    if (update) await page.screenshot({ path: path.join(root, 'docs/dashboard-phone.png'), fullPage: true });
  });
  it('serves the GraphQL playground from its own files: a query, a subscription and an admin mutation with the network cut', async () => {
    const playground = await browser.newPage();
    playground.on('pageerror', (error) => console.error('[playground]', error));
    try {
      await playground.goto(`${sut.url}/graphql`);
      // The dashboard's token for this tab is offered to the playground.
      await playground.evaluate((token) => sessionStorage.setItem('relearn.adminToken', token), ADMIN_TOKEN);
      await playground.reload();
      await playground.locator('.graphiql-container').first().waitFor({ timeout: 60_000 });
      expect(await playground.title()).toBe('Relearn GraphQL playground');
      expect(await playground.locator('.graphiql-container').first().textContent()).toContain('Authorization');

      /** Opens the playground on an operation (GraphiQL takes it from ?query=) and runs it. */
      const run = async (operation: string) => {
        await playground.goto(`${sut.url}/graphql?query=${encodeURIComponent(operation)}`);
        await playground.locator('.graphiql-execute-button').click({ timeout: 60_000 });
      };
      const response = () => playground.locator('.graphiql-response').textContent();

      await run('{ models { name } }');
      await expect.poll(response, { timeout: 30_000 }).toContain('"spam"');

      await run('subscription { metricsUpdated(model: "fraud") { feedbackCount } }');
      // Keep sending feedback until a push shows (the socket may still be subscribing).
      await expect
        .poll(
          async () => {
            const predicted = await sut.gql(`mutation($input: PredictInput!) { predict(input: $input) { id } }`, {
              input: { fraud: generateNewBatch(1, { seed: 9 })[0]!.input },
            });
            if (!predicted.data) throw new Error(`predict failed: ${JSON.stringify(predicted.errors)}`);
            await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: (predicted.data.predict as { id: string }).id, correct: true } });
            return response();
          },
          { timeout: 30_000, interval: 500 },
        )
        .toContain('feedbackCount');
      await playground.locator('.graphiql-execute-button').click(); // stops the subscription

      await run('mutation { activateModelVersion(model: "spam", version: 1, reason: "re-activated from the playground") { version status } }');
      await expect.poll(response, { timeout: 30_000 }).toContain('"LIVE"');
      expect(await response()).not.toContain('UNAUTHENTICATED');
      await playground.screenshot({ path: path.join(artifacts, 'playground.png') });
      if (process.env.UPDATE_SCREENSHOTS === '1') await playground.screenshot({ path: path.join(root, 'docs/playground.png') });
      expect(external).toEqual([]);
    } finally {
      await playground.close();
    }
  });
});
