// The predictions list, "why it said that" and the sources view in a real browser (Debian's
// Chromium through playwright-core) against a whole Relearn on the test PostgreSQL, at 1280 px
// and at 390 px, with the network cut.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateNewBatch } from '../../server/src/tasks/data/fraud-generator.js';
import { SUBMIT_FEEDBACK, startTestApp, type TestApp } from '../../server/test/test-app.js';
import { artifacts, openOfflineBrowser, root, type OfflineBrowser } from './offline-browser.js';

const update = process.env.UPDATE_SCREENSHOTS === '1';

// A browser, PostgreSQL and the app share two busy cores: polls wait up to 20 s (they return as soon as it is there).
vi.setConfig({ expect: { poll: { timeout: 20_000, interval: 100 } } });

describe('recent predictions, why, and sources in the dashboard', () => {
  let sut: TestApp;
  let page: Page;
  let offline: OfflineBrowser;
  let external: string[];
  const rowsOf = () => page.getByTestId('prediction-row');

  beforeAll(async () => {
    sut = await startTestApp();
    // 30 fraud predictions; feedback on the first 12 (the truth, so some are wrong).
    const batch = generateNewBatch(30, { seed: 14, drift: 0.6, fraudRate: 0.4 });
    const predicted = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, {
      inputs: batch.map((r) => ({ fraud: r.input })),
    });
    const ids = (predicted.data.predictBatch as { id: string }[]).map((p) => p.id);
    for (let i = 0; i < 12; i++) await sut.gql(SUBMIT_FEEDBACK, { input: { predictionId: ids[i], actual: batch[i]!.label } });
    offline = await openOfflineBrowser();
    ({ page, external } = offline);
  });

  afterAll(async () => {
    await offline?.close();
    await sut?.stop();
  });

  it('lists recent predictions newest first, in pages, and filters them', async () => {
    await page.goto(`${sut.url}/#fraud`);
    await expect.poll(() => rowsOf().count()).toBe(20);
    await page.getByRole('button', { name: 'Older predictions' }).click();
    await expect.poll(() => rowsOf().count()).toBe(30);
    expect(await page.getByRole('button', { name: 'Older predictions' }).count()).toBe(0);

    await page.locator('#pred-show').selectOption('unlabelled');
    await expect.poll(() => rowsOf().count()).toBe(18);
    expect(await page.getByTestId('row-feedback').allTextContents()).toEqual(Array(18).fill('none yet'));

    await page.locator('#pred-show').selectOption('wrong');
    await expect.poll(async () => (await page.getByTestId('row-feedback').allTextContents()).every((t) => t.startsWith('wrong:'))).toBe(true);

    await page.locator('#pred-show').selectOption('all');
    await page.locator('#pred-label').selectOption('fraud');
    await expect
      .poll(async () => (await page.locator('[data-testid=prediction-row] td:nth-child(3) strong').allTextContents()).every((t) => t === 'fraud'))
      .toBe(true);
    await page.locator('#pred-label').selectOption('');
    // A filter the server refuses says why.
    await page.locator('#pred-version').fill('99');
    await expect.poll(() => page.locator('#predictions-title ~ .error').textContent()).toContain('filter.version');
    await page.locator('#pred-version').fill('');
    await expect.poll(() => rowsOf().count()).toBe(20);
  });

  it('takes feedback on a listed prediction and shows the row updated', async () => {
    await page.locator('#pred-show').selectOption('unlabelled');
    await expect.poll(() => rowsOf().count()).toBe(18);
    const row = rowsOf().first();
    const id = await row.getAttribute('data-id');
    const predicted = await row.locator('td:nth-child(3) strong').textContent();
    await row.getByRole('button', { name: `${predicted} is the actual label of prediction ${id}` }).click();
    await expect.poll(() => page.locator(`[data-id="${id}"] [data-testid=row-feedback]`).textContent()).toBe(`right: ${predicted} · anonymous`);
    // Stored: the server lists it as labelled now.
    const res = await sut.gql(`query($id: ID!) { prediction(id: $id) { feedback { actual source } } }`, { id });
    expect(res.data.prediction.feedback).toEqual({ actual: predicted, source: 'anonymous' });
    await page.locator('#pred-show').selectOption('all');
  });

  it('shows why a listed prediction was made, as bars per feature', async () => {
    const row = rowsOf().first();
    await row.getByRole('button', { name: /^Why/ }).click();
    const explanation = page.getByTestId('explanation').first();
    await expect.poll(() => explanation.getByTestId('contribution').count()).toBe(7); // prior + 6 features
    expect(await explanation.textContent()).toMatch(/Why (legit|fraud)/);
    expect(await explanation.locator('.fill').count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(artifacts, 'predictions-desktop.png'), fullPage: true });
    if (update) await page.locator('section[aria-labelledby=predictions-title]').screenshot({ path: path.join(root, 'docs/predictions.png') });
  });

  it('explains a new prediction in the predict panel, token by token for text', async () => {
    await page.selectOption('#model-picker', 'spam');
    await page.locator('#feature-text').fill('WIN a FREE prize now!!! Click here to claim your cash reward before midnight');
    await page.getByRole('button', { name: 'Predict', exact: true }).click();
    await expect.poll(() => page.getByTestId('predicted-label').textContent()).toMatch(/^(spam|ham)$/);
    const why = page.locator('[data-testid=prediction-result] [data-testid=explanation]');
    await expect.poll(() => why.getByTestId('contribution').count()).toBeGreaterThan(5);
    expect(await why.locator('li.token').count()).toBeGreaterThan(3);
    expect(await why.textContent()).toContain('other tokens');
  });

  it('lists the feedback sources with counts, agreement and trust', async () => {
    await page.selectOption('#model-picker', 'fraud');
    const sources = page.getByTestId('sources');
    await expect.poll(() => sources.getByTestId('source-row').count()).toBe(1);
    const text = (await sources.getByTestId('source-row').textContent())!.replace(/\s+/g, ' ');
    expect(text).toMatch(/^anonymous ?13 ?0 ?\d+\.\d% of 13 ?\d+\.\d%–\d+\.\d% ?trusted \(configured\)$/);
    if (update) await page.locator('section[aria-labelledby=sources-title]').screenshot({ path: path.join(root, 'docs/sources.png') });
  });

  it('fits a 390 px phone: only the tables scroll, inside their boxes, with a hint', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => rowsOf().count()).toBeGreaterThanOrEqual(20);
    await rowsOf().first().getByRole('button', { name: /^Why/ }).click();
    await expect.poll(() => page.getByTestId('explanation').count()).toBe(1);
    const overflowing = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > 391 && !e.parentElement?.closest('.table-scroll'))
          .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`),
      );
    await expect.poll(overflowing).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.locator('section[aria-labelledby=predictions-title] .scroll-hint').isVisible()).toBe(true);
    // The predictions table is wider than the phone, and scrolls inside its own box.
    const box = page.locator('section[aria-labelledby=predictions-title] .table-scroll');
    expect(await box.evaluate((e) => e.scrollWidth > e.clientWidth)).toBe(true);
    // The explanation stays readable beside the scrolled table: within the phone's width.
    const why = await page.getByTestId('explanation').boundingBox();
    const visible = await box.boundingBox();
    expect(why!.x + why!.width).toBeLessThanOrEqual(visible!.x + visible!.width);
    await box.evaluate((e) => e.scrollTo({ left: 0 }));
    await page.screenshot({ path: path.join(artifacts, 'predictions-phone.png'), fullPage: true });
    if (update) await page.locator('section[aria-labelledby=predictions-title]').screenshot({ path: path.join(root, 'docs/predictions-phone.png') });
    expect(external).toEqual([]);
  });
});
