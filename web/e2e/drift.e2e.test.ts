// The input drift panel in a real browser (Debian's Chromium through playwright-core) against a
// whole Relearn on the test PostgreSQL, after a drift simulation (amounts 4x, a merchant category
// training never had), at 1280 px and at 390 px, with the network cut.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateFraudRows } from '../../server/src/tasks/data/fraud-generator.js';
import { startTestApp, type TestApp } from '../../server/test/test-app.js';
import { artifacts, openOfflineBrowser, root, type OfflineBrowser } from './offline-browser.js';

const update = process.env.UPDATE_SCREENSHOTS === '1';

// A browser, PostgreSQL and the app share two busy cores: polls wait up to 20 s (they return as soon as it is there).
vi.setConfig({ expect: { poll: { timeout: 20_000, interval: 100 } } });

describe('the input drift panel', () => {
  let sut: TestApp;
  let page: Page;
  let offline: OfflineBrowser;
  let external: string[];
  const panel = () => page.locator('section[aria-labelledby=drift-title]');

  beforeAll(async () => {
    sut = await startTestApp({ env: { DRIFT_CACHE_SECONDS: '0' } });
    // The drift simulation: 300 predictions whose inputs moved away from the training data.
    const moved = generateFraudRows(300, { seed: 21 }).map((r, i) => ({
      fraud: { ...r.input, amount: Math.min(1_000_000, r.input.amount * 4), merchantCategory: i % 3 === 0 ? 'bnpl' : r.input.merchantCategory },
    }));
    const res = await sut.gql(`mutation($inputs: [PredictInput!]!) { predictBatch(inputs: $inputs) { id } }`, { inputs: moved });
    expect(res.errors).toBeUndefined();
    offline = await openOfflineBrowser();
    ({ page, external } = offline);
  });

  afterAll(async () => {
    await offline?.close();
    await sut?.stop();
  });

  it('says what drifted, charts the scores over time, and shows a feature live against training', async () => {
    await page.goto(`${sut.url}/#fraud`);
    await expect
      .poll(() => panel().getByTestId('drift-status').textContent())
      .toMatch(/^\s*Drifted: .*amount.*merchantCategory|Drifted: .*merchantCategory.*amount/);
    await expect.poll(() => panel().getByTestId('drift-row').count()).toBe(7); // 6 features + predicted label
    await expect.poll(() => panel().getByTestId('drift-chart').getAttribute('data-drifted')).not.toBe('0');
    // The unseen category, as its own bar, and its share in the table.
    await panel().getByRole('button', { name: 'merchantCategory', exact: true }).click();
    await expect.poll(() => panel().getByTestId('drift-distribution').textContent()).toContain('bnpl (unseen)');
    const row = panel().getByTestId('drift-row').filter({ hasText: 'merchantCategory' });
    expect(await row.locator('td:nth-child(4)').textContent()).toMatch(/3\d\.\d%/);
    await panel().getByRole('button', { name: 'amount', exact: true }).click();
    await expect.poll(() => panel().getByTestId('drift-distribution').getByRole('listitem').count()).toBeGreaterThan(5);
    await panel().screenshot({ path: path.join(artifacts, 'drift-desktop.png') });
    if (update) await panel().screenshot({ path: path.join(root, 'docs/drift.png') });
  });

  it('fits a 390 px phone: nothing but the feature table leaves the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => panel().getByTestId('drift-row').count()).toBe(7);
    const overflowing = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('section[aria-labelledby=drift-title] *')]
          .filter((e) => e.getBoundingClientRect().right > 391 && !e.parentElement?.closest('.table-scroll'))
          .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`),
      );
    await expect.poll(overflowing).toEqual([]);
    expect(await panel().getByTestId('drift-distribution').isVisible()).toBe(true);
    await panel().screenshot({ path: path.join(artifacts, 'drift-phone.png') });
    if (update) await panel().screenshot({ path: path.join(root, 'docs/drift-phone.png') });
    expect(external).toEqual([]);
  });
});
